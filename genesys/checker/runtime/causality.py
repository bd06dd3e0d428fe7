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


def _time_leak(result: CheckResult, check: str, t: int, length: int, future: float, own: float, at: int) -> None:
    result.errors.append(Finding(
        "causality", check, f"output at position {t} depends on the future (length {length}): input position {at} "
        f"moves it; max future sensitivity {future:.3g} vs {own:.3g} on the past (ratio {future / max(own, 1e-30):.2g})",
        HINT_TIME))


def gradient_probe(ctx, length: int, result: CheckResult) -> None:
    """Batch first (2 samples, one position), then every probe position at once: sample i of a batch of
    identical sequences probes position t_i, so one backward gives all rows of the Jacobian we need."""
    cfg = ctx.cfg["causality"]
    tol = cfg["grad_tol"]
    X = embeddings(2, length, ctx.cfg["d_model"], seed=length)
    g = torch.Generator().manual_seed(7)
    r = torch.randn(ctx.cfg["d_model"], generator=g)
    X2 = X.clone().requires_grad_(True)
    t = length // 2
    (grad,) = torch.autograd.grad((_forward(ctx, X2)[0, t] * r).sum(), X2, allow_unused=True)
    if grad is not None:
        own, other = grad[0, :t + 1].abs().max().item(), grad[1].abs().max().item()
        if other > tol * max(own, 1e-30):
            result.errors.append(Finding(
                "causality", "causality.batch", f"output of sample 0 at position {t} depends on sample 1 of the batch "
                f"(length {length}, gradient {other:.3g} vs {own:.3g})", HINT_BATCH))
            return
    probes = positions(length, cfg["boundaries"])
    Xk = X[:1].repeat(len(probes), 1, 1).requires_grad_(True)
    Y = _forward(ctx, Xk)
    picked = Y[torch.arange(len(probes)), torch.tensor(probes)]          # (k, D): sample i at position t_i
    (grad,) = torch.autograd.grad((picked * r).sum(), Xk, allow_unused=True)
    if grad is None:
        return  # the output does not depend on X at all: nothing can leak
    for i, t in enumerate(probes):
        own = grad[i, :t + 1].abs().max().item()
        future = grad[i, t + 1:].abs().amax(-1)
        if future.max().item() > tol * max(own, 1e-30):
            _time_leak(result, "causality.gradient", t, length, future.max().item(), own,
                       int(future.gt(tol * max(own, 1e-30)).nonzero()[0]) + t + 1)
            return


def perturbation_probe(ctx, length: int, result: CheckResult) -> None:
    """Batch first (replace sample 1), then all cut positions at once: sample i has its inputs after s_i
    replaced, and its outputs up to s_i are compared with the same batch unperturbed."""
    cfg = ctx.cfg["causality"]
    X = embeddings(2, length, ctx.cfg["d_model"], seed=length + 1)
    g = torch.Generator().manual_seed(11)
    with torch.no_grad():
        Y = _forward(ctx, X)
        tol = cfg["perturb_tol"] * max(Y.abs().max().item(), 1e-30)
        X2 = X.clone()
        X2[1] = torch.randn(X2[1].shape, generator=g)
        diff = (_forward(ctx, X2)[0] - Y[0]).abs().max().item()
        if diff > tol:
            result.errors.append(Finding(
                "causality", "causality.batch", f"changing sample 1 of the batch changed the output of sample 0 by "
                f"{diff:.3g} (tolerance {tol:.2g}, length {length})", HINT_BATCH))
            return
        cuts = positions(length, cfg["boundaries"])
        Xk = X[:1].repeat(len(cuts), 1, 1)
        Xp = Xk.clone()
        for i, s in enumerate(cuts):
            Xp[i, s + 1:] = torch.randn(Xp[i, s + 1:].shape, generator=g)
        Yk, Yp = _forward(ctx, Xk), _forward(ctx, Xp)
        for i, s in enumerate(cuts):
            diff = (Yp[i, :s + 1] - Yk[i, :s + 1]).abs().amax(-1)
            if diff.max().item() > tol:
                first = int(diff.gt(tol).nonzero()[0])
                result.errors.append(Finding(
                    "causality", "causality.perturbation",
                    f"changing inputs after position {s} changed the output at position {first} by "
                    f"{diff.max().item():.3g} (tolerance {tol:.2g}, length {length})", HINT_TIME))
                return


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
