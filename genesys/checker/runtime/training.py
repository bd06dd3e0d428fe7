"""Training sanity: a short AdamW run on a synthetic low-entropy Markov source; the loss must stay finite and
fall, and is compared with the gpt2 seed trained identically (same data, steps, seed). Parameters that never
get a nonzero gradient in the whole run (alive only under the gradient check's perturbation, e.g. both halves of
a low-rank product initialised at zero: a point training cannot leave) are a warning."""
from __future__ import annotations

from typing import List, Optional, Set

import torch

from genesys.checker.report import CheckResult, Finding
from genesys.checker.runtime.common import build_lm, classify, nonzero_grad_names, timed


def markov_batches(vocab: int, batch: int, length: int, steps: int, seed: int = 0) -> List[torch.Tensor]:
    """Token sequences from a random sparse Markov chain (2 successors per token, plus a 1-token memory term):
    learnable in tens of steps, with an entropy floor far below log(vocab)."""
    g = torch.Generator().manual_seed(seed)
    succ = torch.randint(0, vocab, (vocab, 2), generator=g)
    out = []
    for _ in range(steps):
        seq = torch.empty(batch, length, dtype=torch.long)
        seq[:, 0] = torch.randint(0, vocab, (batch,), generator=g)
        choice = torch.randint(0, 2, (batch, length), generator=g)
        for t in range(1, length):
            seq[:, t] = succ[seq[:, t - 1], choice[:, t]]
        out.append(seq)
    return out


def train(lm, batches, lr: float, moved: Optional[Set[str]] = None) -> List[float]:
    """AdamW on the batches; the names of parameters that ever got a nonzero gradient are added to `moved`."""
    opt = torch.optim.AdamW(lm.parameters(), lr=lr, weight_decay=0.0)
    losses = []
    lm.train()
    for ids in batches:
        loss = lm(ids, labels=ids).loss
        losses.append(loss.item())
        if not torch.isfinite(loss):
            break
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if moved is not None:
            moved.update(nonzero_grad_names(lm))
        torch.nn.utils.clip_grad_norm_(lm.parameters(), 1.0)
        opt.step()
    return losses


def _drop(losses: List[float], k: int = 3) -> float:
    return sum(losses[:k]) / k - sum(losses[-k:]) / k


def check_training(ctx) -> List[CheckResult]:
    result = CheckResult("training")
    cfg, tcfg = ctx.cfg, ctx.cfg["training"]
    with timed(result):
        batches = markov_batches(cfg["vocab_size"], tcfg["batch_size"], tcfg["length"], tcfg["steps"])
        moved: Set[str] = set()
        try:
            lm = build_lm(ctx.module, cfg, seed=1)
            losses = train(lm, batches, tcfg["lr"], moved)
        except Exception as exc:
            result.errors.append(classify(exc, "training", default="training"))
            return [result]
        ref_losses = train(build_lm(ctx.ref_module, cfg, seed=1), batches, tcfg["lr"])
        ctx.metrics.update({"train_loss_first": losses[0], "train_loss_last": losses[-1],
                            "reference_train_loss_last": ref_losses[-1]})
        bad = [i for i, v in enumerate(losses) if not torch.isfinite(torch.tensor(v))]
        if bad:
            result.errors.append(Finding("training", "training", f"the loss became {losses[bad[0]]} at step {bad[0]}",
                                         "Training diverges: bound exponents, normalise states, check the init."))
            return [result]
        stuck = [n for n, p in lm.named_parameters() if p.requires_grad and n not in moved]
        if stuck:  # alive under perturbation (the gradient check), yet training never leaves their initial point
            result.warnings.append(Finding(
                "gradient", "training", f"{len(stuck)} parameter(s) never got a nonzero gradient in {len(losses)} "
                f"training steps: {', '.join(stuck[:8])}" + (" ..." if len(stuck) > 8 else ""),
                "They start at a point training cannot leave, e.g. both halves of a low-rank product at zero: "
                "initialise one half randomly."))
        drop, ref_drop = _drop(losses), _drop(ref_losses)
        ctx.metrics["train_drop_ratio"] = drop / ref_drop if ref_drop > 0 else float("nan")
        msg = (f"loss fell by {drop:.3f} in {len(losses)} steps ({losses[0]:.3f} -> {losses[-1]:.3f}); gpt2 fell by "
               f"{ref_drop:.3f} ({ref_losses[0]:.3f} -> {ref_losses[-1]:.3f})")
        if drop <= tcfg["min_drop_fraction"] * ref_drop:
            result.errors.append(Finding("training", "training", "the loss is not falling: " + msg,
                                         "Check that gradients reach every parameter and that the block output "
                                         "depends on its input (residual path, no constant outputs)."))
        elif drop < tcfg["warn_drop_fraction"] * ref_drop:
            result.warnings.append(Finding("training", "training", "the loss falls much more slowly than gpt2's: "
                                           + msg, "A short run is noisy, but this suggests a poor init or lr fit."))
    return [result]
