"""Causality and batch independence of the block stack: a float32 probe with tolerances, repeated in float64.

Two independent probes, each at every causality length (>= 2, one past the largest chunk boundary):
- gradient: for output position t of sample 0, d Y[0, t] / d X must vanish for positions > t and for the
  other samples of the batch (one backward per probed position, one shared forward);
- perturbation: replacing the inputs after position s (or one sample entirely, sample 1 and then sample 0) leaves
  outputs up to s (or of the other sample) unchanged up to a tolerance times the output scale.
Both run in training mode with the RNG re-seeded before each forward, so dropout and batch statistics take
part (normalising over time or over the batch is a leak in training).

Small leaks vs round-off. In float32 a valid FFT or cumsum-difference design shows future sensitivities of
~1e-7 (round-off), so the float32 probe needs a tolerance (1e-5) and a genuine leak below it would pass. The
two are told apart by how they scale with precision: both probes are repeated on a float64 copy of the model
at the longest causality length (Float64Mode keeps the design's own float32 casts from lowering it). Round-off
falls by ~9 orders there (float64 eps is 1.1e-16; even amplified 1e4-fold by long sums it stays below 1e-12),
a real dependence keeps its size, so anything above `fp64_tol` (1e-10, between the two) is a leak. Where the
design cannot run in float64 (it fails there, gives non-finite values, or still computes on float32 data), the
float32 verdict stands alone and a warning says that leaks below the float32 tolerance could not be ruled out.
"""
from __future__ import annotations

import dataclasses
from typing import Dict, List, Optional

import torch

from genesys.checker.report import CheckResult, Finding
from genesys.checker.runtime.common import (classify, embeddings, float64_context, float64_copy, positions,
                                            run_blocks, timed)

HINT_TIME = ("Output at position t may depend only on inputs at positions <= t: use left padding for "
             "convolutions (pad k-1 on the left), mask scores above the diagonal before softmax/exp, zero-pad FFT "
             "convolutions to 2L, and never normalise or pool over the sequence dimension.")
HINT_BATCH = "Samples of a batch must not interact: never reduce over the batch dimension (no BatchNorm)."
HINT_FP64 = ("Run the design in float64 if you can (no hard-coded float32 tensors or dtype checks), so the "
             "checker can tell small leaks from round-off.")


class Unreliable(Exception):
    """The float64 repeat cannot be trusted: the design raised there, or gave non-finite values."""


@dataclasses.dataclass
class Probe:
    """One precision of the probes: the model to run, its input dtype and its tolerances."""

    lm: torch.nn.Module
    dtype: torch.dtype
    grad_tol: float
    perturb_tol: float
    worst: Dict[str, float] = dataclasses.field(default_factory=dict)  # largest relative leak seen, per probe

    @property
    def label(self) -> str:
        return "float64" if self.dtype == torch.float64 else "float32"

    def note(self, kind: str, value: float) -> None:
        if self.dtype == torch.float64 and not torch.isfinite(torch.tensor(value)):
            raise Unreliable(f"non-finite {kind} sensitivity in float64")
        self.worst[kind] = max(self.worst.get(kind, 0.0), value)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        torch.manual_seed(1234)
        return run_blocks(self.lm, X.to(self.dtype))


def _scaling(reference: Optional["Probe"], kind: str) -> str:
    """The float32 measurement next to a float64 finding: round-off would have fallen ~1e9-fold, a leak does not."""
    if reference is None or kind not in reference.worst:
        return ""
    return (f"; the float32 probe measured {reference.worst[kind]:.2g}: round-off would have fallen about a "
            f"billion-fold in float64, so this is a real dependence")


def gradient_probe(ctx, probe: Probe, length: int, result: CheckResult, ref: Optional[Probe] = None) -> None:
    """Batch first (2 samples, one position), then every probe position at once: sample i of a batch of
    identical sequences probes position t_i, so one backward gives all rows of the Jacobian we need."""
    cfg = ctx.cfg["causality"]
    tol = probe.grad_tol
    X = embeddings(2, length, ctx.cfg["d_model"], seed=length).to(probe.dtype)
    g = torch.Generator().manual_seed(7)
    r = torch.randn(ctx.cfg["d_model"], generator=g).to(probe.dtype)
    X2 = X.clone().requires_grad_(True)
    t = length // 2
    (grad,) = torch.autograd.grad((probe.forward(X2)[0, t] * r).sum(), X2, allow_unused=True)
    if grad is not None:
        own, other = grad[0, :t + 1].abs().max().item(), grad[1].abs().max().item()
        probe.note("batch_gradient", other / max(own, 1e-30))
        if other > tol * max(own, 1e-30):
            result.errors.append(Finding(
                "causality", "causality.batch", f"output of sample 0 at position {t} depends on sample 1 of the batch "
                f"(length {length}, {probe.label}, gradient {other:.3g} vs {own:.3g})"
                + _scaling(ref, "batch_gradient"), HINT_BATCH))
            return
    probes = positions(length, cfg["boundaries"])
    Xk = X[:1].repeat(len(probes), 1, 1).requires_grad_(True)
    Y = probe.forward(Xk)
    picked = Y[torch.arange(len(probes)), torch.tensor(probes)]          # (k, D): sample i at position t_i
    (grad,) = torch.autograd.grad((picked * r).sum(), Xk, allow_unused=True)
    if grad is None:
        return  # the output does not depend on X at all: nothing can leak
    for i, t in enumerate(probes):
        own = max(grad[i, :t + 1].abs().max().item(), 1e-30)
        future = grad[i, t + 1:].abs().amax(-1)
        worst = future.max().item()
        probe.note("gradient", worst / own)
        if worst > tol * own:
            at = int(future.gt(tol * own).nonzero()[0]) + t + 1
            result.errors.append(Finding(
                "causality", "causality.gradient", f"output at position {t} depends on the future (length {length}, "
                f"{probe.label}): input position {at} moves it; max future sensitivity {worst:.3g} vs {own:.3g} on "
                f"the past (ratio {worst / own:.2g})" + _scaling(ref, "gradient"), HINT_TIME))
            return


def perturbation_probe(ctx, probe: Probe, length: int, result: CheckResult, ref: Optional[Probe] = None) -> None:
    """Batch first (replace sample 1), then all cut positions at once: sample i has its inputs after s_i
    replaced, and its outputs up to s_i are compared with the same batch unperturbed."""
    cfg = ctx.cfg["causality"]
    X = embeddings(2, length, ctx.cfg["d_model"], seed=length + 1).to(probe.dtype)
    g = torch.Generator().manual_seed(11)
    noise = lambda shape: torch.randn(shape, generator=g).to(probe.dtype)  # noqa: E731
    with torch.no_grad():
        Y = probe.forward(X)
        scale = max(Y.abs().max().item(), 1e-30)
        if probe.dtype == torch.float64 and not torch.isfinite(Y).all():
            raise Unreliable("non-finite outputs in float64")
        tol = probe.perturb_tol * scale
        for changed, seen in ((1, 0), (0, 1)):  # both ways: a design may copy sample 0 into the others
            X2 = X.clone()
            X2[changed] = noise(X2[changed].shape)
            diff = (probe.forward(X2)[seen] - Y[seen]).abs().max().item()
            probe.note("batch_perturbation", diff / scale)
            if diff > tol:
                result.errors.append(Finding(
                    "causality", "causality.batch", f"changing sample {changed} of the batch changed the output of "
                    f"sample {seen} by {diff:.3g} (tolerance {tol:.2g}, length {length}, {probe.label})"
                    + _scaling(ref, "batch_perturbation"), HINT_BATCH))
                return
        cuts = positions(length, cfg["boundaries"])
        Xk = X[:1].repeat(len(cuts), 1, 1)
        Xp = Xk.clone()
        for i, s in enumerate(cuts):
            Xp[i, s + 1:] = noise(Xp[i, s + 1:].shape)
        Yk, Yp = probe.forward(Xk), probe.forward(Xp)
        for i, s in enumerate(cuts):
            diff = (Yp[i, :s + 1] - Yk[i, :s + 1]).abs().amax(-1)
            probe.note("perturbation", diff.max().item() / scale)
            if diff.max().item() > tol:
                first = int(diff.gt(tol).nonzero()[0])
                result.errors.append(Finding(
                    "causality", "causality.perturbation",
                    f"changing inputs after position {s} changed the output at position {first} by "
                    f"{diff.max().item():.3g} (tolerance {tol:.2g}, length {length}, {probe.label})"
                    + _scaling(ref, "perturbation"), HINT_TIME))
                return


PROBES = ((gradient_probe, "causality.gradient", "gradient"), (perturbation_probe, "causality.perturbation", "forward"))


def _run(ctx, probe: Probe, lengths: List[int], results: List[CheckResult], ref: Optional[Probe] = None) -> None:
    """Both probes at every length, stopping a probe at its first finding."""
    for (run, _, category), result in zip(PROBES, results):
        with timed(result):
            for length in lengths:
                try:
                    run(ctx, probe, length, result, ref)
                except Unreliable:
                    raise
                except Exception as exc:
                    sandbox = isinstance(exc, PermissionError) and "sandbox" in str(exc)
                    if probe.dtype == torch.float64 and not sandbox:
                        raise Unreliable(f"{type(exc).__name__}: {str(exc)[:200]}") from exc
                    result.errors.append(classify(exc, result.check, default=category))
                if result.errors:
                    break


def _float64_repeat(ctx, fp32: Probe, results: List[CheckResult]) -> Optional[str]:
    """The float64 repeat at the longest causality length (its probe positions straddle every chunk boundary;
    one length keeps the repeat cheap); returns why it could not be trusted, or None. Findings go to `results`."""
    cfg = ctx.cfg["causality"]
    try:
        lm64 = float64_copy(ctx.lm)
    except Exception as exc:
        return f"the model cannot be copied to float64 ({type(exc).__name__}: {str(exc)[:200]})"
    probe = Probe(lm64, torch.float64, cfg["fp64_tol"], cfg["fp64_tol"])
    found = [CheckResult(r.check) for r in results]
    try:
        with float64_context() as mode:
            _run(ctx, probe, [max(cfg["lengths"])], found, ref=fp32)
    except Unreliable as exc:
        return f"it fails or is not finite in float64 ({exc})"
    finally:
        for result, extra in zip(results, found):
            result.seconds += extra.seconds
    if mode.lowered:
        return f"it still computes on float32 data in float64 (first at {mode.lowered})"
    for result, extra in zip(results, found):
        result.errors.extend(extra.errors)
    ctx.metrics["causality_fp64"] = max(probe.worst.values(), default=0.0)
    return None


def check_causality(ctx) -> List[CheckResult]:
    cfg = ctx.cfg["causality"]
    results = [CheckResult(check) for _, check, _ in PROBES]
    ctx.lm.train()
    fp32 = Probe(ctx.lm, torch.float32, cfg["grad_tol"], cfg["perturb_tol"])
    _run(ctx, fp32, cfg["lengths"], results)
    ctx.metrics["causality_fp32"] = max(fp32.worst.values(), default=0.0)  # largest relative dependence seen
    if any(r.errors for r in results) or not cfg["fp64"]:
        ctx.metrics["causality_precision"] = "float32"
        return results
    why = _float64_repeat(ctx, fp32, results)
    ctx.metrics["causality_precision"] = "float32" if why else "float64"
    if why:
        results[0].warnings.append(Finding(
            "causality", "causality.precision", f"causality was checked in float32 only: {why}. Leaks smaller than "
            f"{cfg['grad_tol']:g} of the output's sensitivity to the past cannot be told from round-off there.",
            HINT_FP64))
    return results
