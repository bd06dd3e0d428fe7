"""Training-loop overhead: tokens/s of our Lightning loop (LMModule + RunMonitor + our trainer settings) against
a plain PyTorch loop doing the same work (same model init, data, AdamW, schedule, clipping), in one process.

    python bench/train.py                     # CPU: gpt2 at cpu_xs shape on the stdlib corpus
    python bench/train.py --scale cpu_s --steps 40 --repeats 3

Each loop runs `steps` optimizer steps after `warmup` untimed ones; the two loops alternate `repeats` times in
ABBA order and the best time of each is reported (robust to noisy neighbours on shared machines).
"""
from __future__ import annotations

import argparse
import json
import time

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback
from omegaconf import OmegaConf
from torch.utils.data import DataLoader

from genesys.gau import GenesysLM, load_design
from genesys.paths import CONF_DIR
from genesys.verify.autotune import choose_shape
from genesys.verify.data import prepare_data
from genesys.verify.loader import TrainWindows
from genesys.verify.module import LMModule, lr_factor
from genesys.verify.monitor import RunMonitor
from genesys.verify.run import resolve_design
from genesys.scales import load_scale


class _Timer(Callback):
    """Wall time of the steps after warm-up (between the end of step `warmup` and the end of training)."""

    def __init__(self, warmup):
        self.warmup, self.t0, self.t1 = warmup, None, None

    def on_train_batch_end(self, trainer, *args):
        if trainer.global_step == self.warmup:
            self.t0 = time.perf_counter()
        self.t1 = time.perf_counter()


def build(tree, shape, vocab, seed=0):
    torch.manual_seed(seed)
    return GenesysLM.from_design(tree, shape.d_model, shape.n_block, vocab)


def lightning_loop(lm, loader, steps, warmup, lr, accelerator, precision):
    module = LMModule(lm, lr=lr, total_steps=steps + warmup)
    timer = _Timer(warmup)
    trainer = L.Trainer(accelerator=accelerator, devices=1, precision=precision, max_steps=steps + warmup,
                        callbacks=[RunMonitor(), timer], logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0)
    trainer.fit(module, loader)
    return timer.t1 - timer.t0


def plain_loop(lm, loader, steps, warmup, lr, device, autocast_dtype):
    lm = lm.to(device)
    decay = [p for p in lm.parameters() if p.ndim >= 2]
    rest = [p for p in lm.parameters() if p.ndim < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}],
                            lr=lr, betas=(0.9, 0.95), fused=device == "cuda")
    total = steps + warmup
    warm = max(1, round(0.02 * total))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: lr_factor(s, warm, total, 0.1))
    t0 = None
    for step, batch in enumerate(loader):
        if step == warmup:
            if device == "cuda":
                torch.cuda.synchronize()
            t0 = time.perf_counter()
        if step == total:
            break
        batch = batch.to(device, non_blocking=True)
        with torch.autocast(device, dtype=autocast_dtype, enabled=autocast_dtype is not None):
            loss = lm(batch, labels=batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(lm.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        float(loss)   # the Lightning loop reads the loss every step too (monitor, progress)
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--design", default="seeds/gpt2")
    ap.add_argument("--scale", default="cpu_xs")
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=4)
    ap.add_argument("--micro-batch", type=int, default=None, help="default: the scale's global batch")
    args = ap.parse_args()

    cuda = torch.cuda.is_available()
    device, precision, autocast = ("cuda", "bf16-mixed", torch.bfloat16) if cuda else ("cpu", "32-true", None)
    scale = load_scale(args.scale)
    data = prepare_data(OmegaConf.load(CONF_DIR / "data" / "stdlib.yaml"))
    tree = load_design(resolve_design(args.design))
    shape = choose_shape(tree, scale, data.vocab_size)
    micro = args.micro_batch or scale.batch_seqs
    n = (args.steps + args.warmup) * micro
    loader = DataLoader(TrainWindows(data.tokens("train"), scale.context, n, seed=0), batch_size=micro,
                        pin_memory=cuda)
    tokens = args.steps * micro * scale.context
    times = {"lightning": [], "plain": []}
    loops = {"plain": lambda: plain_loop(build(tree, shape, data.vocab_size), loader, args.steps, args.warmup,
                                         scale.lr, device, autocast),
             "lightning": lambda: lightning_loop(build(tree, shape, data.vocab_size), loader, args.steps,
                                                 args.warmup, scale.lr, "gpu" if cuda else "cpu", precision)}
    for repeat in range(args.repeats):
        # ABBA order: neither loop always runs first (warm caches, neighbours' load drifting over the run)
        for name in (["plain", "lightning"] if repeat % 2 == 0 else ["lightning", "plain"]):
            times[name].append(loops[name]())
    best = {k: min(v) for k, v in times.items()}
    result = {"design": tree.name, "scale": scale.name, "device": torch.cuda.get_device_name() if cuda else "cpu",
              "threads": torch.get_num_threads(), "params": build(tree, shape, data.vocab_size).num_params(),
              "micro_batch": micro, "context": scale.context, "steps": args.steps,
              "plain_tok_s": round(tokens / best["plain"]), "lightning_tok_s": round(tokens / best["lightning"]),
              "ratio": round(best["plain"] / best["lightning"], 3),
              "all_times_s": {k: [round(t, 3) for t in v] for k, v in times.items()}}
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
