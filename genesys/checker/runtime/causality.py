"""Causality and batch independence of the block stack, in float32 with explicit tolerances.

Two independent probes, each at every causality length (>= 2, one past the largest chunk boundary):
- gradient: for output position t of sample 0, d Y[0, t] / d X must vanish for positions > t and for the
  other samples of the batch (one backward per probed position, one shared forward);
- perturbation: replacing the inputs after position s (or another sample entirely) leaves outputs up to s
  (or of sample 0) unchanged up to `perturb_tol` times the output scale.
Both run in training mode with the RNG re-seeded before each forward, so dropout and batch statistics take
part (normalising over time or over the batch is a leak in training).
"""
from __future__ import annotations

from typing import List

import torch

from genesys.checker.report import CheckResult, Finding
from genesys.checker.runtime.common import classify, embeddings, positions, run_blocks, timed

HINT_TIME = ("Output at position t may depend only on inputs at positions <= t: use left padding for "
             "convolutions (pad k-1 on the left), mask scores above the diagonal before softmax/exp, zero-pad FFT "
             "convolutions to 2L, and never normalise or pool over the sequence dimension.")
HINT_BATCH = "Samples of a batch must not interact: never reduce over the batch dimension (no BatchNorm)."


def _forward(ctx, X: torch.Tensor) -> torch.Tensor:
    torch.manual_seed(1234)
    return run_blocks(ctx.lm, X)


def gradient_probe(ctx, length: int, result: CheckResult) -> None:
    cfg = ctx.cfg["causality"]
    X = embeddings(2, length, ctx.cfg["d_model"], seed=length).requires_grad_(True)
    Y = _forward(ctx, X)
    g = torch.Generator().manual_seed(7)
    for t in positions(length, cfg["boundaries"]):
        r = torch.randn(Y.shape[-1], generator=g)
        (grad,) = torch.autograd.grad((Y[0, t] * r).sum(), X, retain_graph=True, allow_unused=True)
        if grad is None:
            continue  # output does not depend on X at all: nothing can leak
        own = grad[0, :t + 1].abs().max().item()
        future = grad[0, t + 1:].abs().max().item()
        other = grad[1].abs().max().item()
        scale = max(own, 1e-30)
        if future > cfg["grad_tol"] * scale:
            leak_pos = int(grad[0, t + 1:].abs().amax(-1).nonzero()[0]) + t + 1
            result.errors.append(Finding(
                "causality", "causality.gradient",
                f"output at position {t} depends on the future (length {length}): |dY[{t}]/dX[{leak_pos}]| > 0, "
                f"max future gradient {future:.3g} vs {own:.3g} on the past (ratio {future / scale:.2g})", HINT_TIME))
            return
        if other > cfg["grad_tol"] * scale:
            result.errors.append(Finding(
                "causality", "causality.batch",
                f"output of sample 0 at position {t} depends on sample 1 of the batch (length {length}, gradient "
                f"{other:.3g} vs {own:.3g})", HINT_BATCH))
            return


def perturbation_probe(ctx, length: int, result: CheckResult) -> None:
    cfg = ctx.cfg["causality"]
    X = embeddings(2, length, ctx.cfg["d_model"], seed=length + 1)
    with torch.no_grad():
        Y = _forward(ctx, X)
        scale = Y.abs().max().item()
        tol = cfg["perturb_tol"] * max(scale, 1e-30)
        g = torch.Generator().manual_seed(11)
        for s in positions(length, cfg["boundaries"]):
            X2 = X.clone()
            X2[:, s + 1:] = torch.randn(X2[:, s + 1:].shape, generator=g)
            diff = (_forward(ctx, X2)[:, :s + 1] - Y[:, :s + 1]).abs()
            if diff.max().item() > tol:
                first = int(diff.amax(dim=(0, 2)).gt(tol).nonzero()[0])
                result.errors.append(Finding(
                    "causality", "causality.perturbation",
                    f"changing inputs after position {s} changed the output at position {first} by "
                    f"{diff.max().item():.3g} (tolerance {tol:.2g}, length {length})", HINT_TIME))
                return
        X2 = X.clone()
        X2[1] = torch.randn(X2[1].shape, generator=g)
        diff = (_forward(ctx, X2)[0] - Y[0]).abs().max().item()
        if diff > tol:
            result.errors.append(Finding(
                "causality", "causality.batch", f"changing sample 1 of the batch changed the output of sample 0 by "
                f"{diff:.3g} (tolerance {tol:.2g}, length {length})", HINT_BATCH))


def check_causality(ctx) -> List[CheckResult]:
    grad_res, pert_res = CheckResult("causality.gradient"), CheckResult("causality.perturbation")
    ctx.lm.train()
    for probe, result in ((gradient_probe, grad_res), (perturbation_probe, pert_res)):
        with timed(result):
            for length in ctx.cfg["causality"]["lengths"]:
                try:
                    probe(ctx, length, result)
                except Exception as exc:
                    result.errors.append(classify(exc, result.check, default="gradient" if probe is gradient_probe
                                                  else "forward"))
                if result.errors:
                    break
    return [grad_res, pert_res]
