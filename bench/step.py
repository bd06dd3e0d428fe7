"""Where one optimizer step's time goes: forward, backward, gradient clipping and AdamW, per design at one rung's
shape (the shape autotune picks, the rung's micro batch and context), in one process on one thread.

    python bench/step.py                                   # the five seeds at cpu_xs
    python bench/step.py --designs seeds/ttt --scale cpu_s --steps 20

Random token windows of the stdlib corpus; `warmup` untimed steps, then the mean of `steps` timed ones. The
optimizer is timed as the verification runs it (AdamW, for-loop on CPU) and, for comparison, fused.
"""
from __future__ import annotations

import argparse
import json
import time

import torch
from omegaconf import OmegaConf

from genesys.gau import GenesysLM, load_design
from genesys.paths import CONF_DIR, resolve_design
from genesys.scales import load_scale
from genesys.verify.autotune import choose_shape
from genesys.verify.data import prepare_data

SEEDS = ["seeds/gpt2", "seeds/mamba2", "seeds/retnet", "seeds/rwkv6", "seeds/ttt"]


def time_steps(lm, batches, warmup: int, fused: bool) -> dict:
    opt = torch.optim.AdamW(lm.parameters(), lr=1e-3, fused=fused)
    totals = {"forward": 0.0, "backward": 0.0, "clip": 0.0, "optimizer": 0.0}
    for i, x in enumerate(batches):
        t0 = time.perf_counter()
        loss = lm(x, labels=x).loss
        t1 = time.perf_counter()
        loss.backward()
        t2 = time.perf_counter()
        torch.nn.utils.clip_grad_norm_(lm.parameters(), 1.0)
        t3 = time.perf_counter()
        opt.step()
        opt.zero_grad(set_to_none=True)
        t4 = time.perf_counter()
        if i >= warmup:
            for key, dt in zip(totals, (t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
                totals[key] += dt
    n = len(batches) - warmup
    ms = {key: round(1000 * value / n, 1) for key, value in totals.items()}
    ms["step"] = round(sum(ms.values()), 1)
    return ms


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--designs", nargs="+", default=SEEDS)
    ap.add_argument("--scale", default="cpu_xs")
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    scale = load_scale(args.scale)
    data = prepare_data(OmegaConf.load(CONF_DIR / "data" / "stdlib.yaml"))
    tokens = torch.as_tensor(data.tokens("train").astype("int64"))
    gen = torch.Generator().manual_seed(0)
    starts = torch.randint(0, len(tokens) - scale.context, (args.warmup + args.steps, scale.batch_seqs), generator=gen)
    batches = [torch.stack([tokens[s:s + scale.context] for s in row.tolist()]) for row in starts]
    rows = []
    for design in args.designs:
        tree = load_design(resolve_design(design))
        shape = choose_shape(tree, scale, data.vocab_size)
        row = {"design": tree.name, "d_model": shape.d_model, "n_block": shape.n_block}
        for fused in (False, True):
            torch.manual_seed(0)
            lm = GenesysLM.from_design(tree, shape.d_model, shape.n_block, data.vocab_size)
            row["fused" if fused else "as_run"] = time_steps(lm, batches, args.warmup, fused)
        rows.append(row)
        print(json.dumps(row), flush=True)
    print(f"\n`python bench/step.py --scale {args.scale}` ({args.threads} thread, micro batch {scale.batch_seqs} x "
          f"{scale.context}, mean of {args.steps} steps after {args.warmup}):\n")
    print("| design | shape | forward ms | backward ms | clip ms | AdamW ms (fused) | step ms |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        a, f = r["as_run"], r["fused"]
        print(f"| {r['design']} | d {r['d_model']} x {r['n_block']} | {a['forward']} | {a['backward']} | {a['clip']} | "
              f"{a['optimizer']} ({f['optimizer']}) | {a['step']} |")


if __name__ == "__main__":
    main()
