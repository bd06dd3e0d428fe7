"""Differentiability: every trainable parameter must be used, get a finite gradient, and a nonzero one.

1. One LM training step on the model as initialised: the loss is finite, every parameter takes part in it
   (`grad` is not None) and its gradient is finite.
2. Dead parameters. A non-differentiable op on a parameter's only path to the loss (round, sign, floor,
   argmax/one-hot, integer casts, comparisons, detach, a clamp or ReLU that is always saturated) leaves it with
   an exactly zero gradient, so training never moves it. Exact zeros also happen legitimately at
   initialisation: a bias behind a zero-initialised gate, both halves of a zero-initialised low-rank pair,
   ReZero-style scales. Those zeros belong to the initial point, not to the graph, so the probe moves the
   point: each extra probe runs on a copy whose every parameter got random noise (`noise` x its RMS, or
   `noise_floor` where it is all zeros), at each of `perturbed_lengths` (crossing a chunk boundary), with fresh
   tokens. A parameter whose gradient is exactly zero in the initialised model and in every perturbed copy is
   cut off from the loss by the graph itself: an error naming it. (Whether training can leave a zero-gradient
   initial point -- it cannot for a product of two zeros -- is the training check's warning.)
"""
from __future__ import annotations

import copy
from typing import List, Optional, Set

import torch

from genesys.checker.report import CheckResult, Finding
from genesys.checker.runtime.common import classify, nonzero_grad_names, timed, tokens

HINT_DEAD = ("These parameters cannot learn: a non-differentiable op (round, sign, floor, argmax/one-hot, integer "
             "casts, comparisons, detach) or an always-saturated clamp/ReLU sits on their only path to the output. "
             "Use a differentiable relaxation or a straight-through estimator (x + (q(x) - x).detach()).")


def _nonzero(lm, ids) -> Optional[Set[str]]:
    """Names of the trainable parameters with a nonzero gradient of the LM loss; None if the loss is not finite."""
    lm.zero_grad(set_to_none=True)
    loss = lm(ids, labels=ids).loss
    if not torch.isfinite(loss):
        return None
    loss.backward()
    alive = nonzero_grad_names(lm)
    lm.zero_grad(set_to_none=True)
    return alive


def perturbed(lm, seed: int, noise: float, floor: float):
    """A copy of the LM with every parameter moved by Gaussian noise relative to its own scale."""
    twin = copy.deepcopy(lm)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in twin.parameters():
            rms = p.float().pow(2).mean().sqrt().item() if p.numel() else 0.0
            p.add_(torch.randn(p.shape, generator=g).to(p.dtype) * (noise * rms if rms > 0 else floor))
    return twin


def dead_parameters(ctx, alive: Set[str], result: CheckResult) -> List[str]:
    """Trainable parameters with an exactly zero gradient at init (not in `alive`) and in every perturbed copy."""
    cfg = ctx.cfg["gradient"]
    names = [n for n, p in ctx.lm.named_parameters() if p.requires_grad]
    dead = [n for n in names if n not in alive]
    skipped = []
    for i, length in enumerate(cfg["perturbed_lengths"]):
        if not dead:
            break
        ids = tokens(ctx.cfg["batch_size"], length, ctx.cfg["vocab_size"], seed=100 + i)
        seen = None
        for scale in (1.0, 0.1):  # a smaller push where the full one leaves the design's valid range
            try:
                seen = _nonzero(perturbed(ctx.lm, seed=10 + i, noise=cfg["noise"] * scale,
                                          floor=cfg["noise_floor"] * scale), ids)
            except Exception as exc:  # the design at init passed; weights elsewhere may break it
                seen = None
                last = f"{type(exc).__name__}: {str(exc)[:200]}"
            else:
                last = "the loss is not finite"
            if seen is not None:
                break
        if seen is None:
            skipped.append(f"length {length}: {last}")
            continue
        dead = [n for n in dead if n not in seen]
    ctx.metrics["zero_gradient_at_init"] = len([n for n in names if n not in alive])
    if skipped and len(skipped) == len(cfg["perturbed_lengths"]):
        result.warnings.append(Finding(
            "gradient", "gradient", f"the dead-gradient probe could not run on perturbed weights "
            f"({'; '.join(skipped)}); {len(dead)} parameter(s) have a zero gradient at init",
            "Make the design robust to small weight changes."))
        return []
    return dead


def check_gradient(ctx) -> List[CheckResult]:
    result = CheckResult("gradient")
    cfg, lm = ctx.cfg, ctx.lm
    with timed(result):
        lm.train()
        lm.zero_grad(set_to_none=True)
        ids = tokens(cfg["batch_size"], cfg["gradient"]["length"], cfg["vocab_size"], seed=3)
        try:
            loss = lm(ids, labels=ids).loss
            if not torch.isfinite(loss):
                result.errors.append(Finding("gradient", "gradient", f"the training loss is {loss.item()}",
                                             "The forward produces non-finite values at initialisation."))
                return [result]
            loss.backward()
        except Exception as exc:
            result.errors.append(classify(exc, "gradient", default="gradient"))
            return [result]
        unused, nonfinite, alive = [], [], set()
        for name, p in lm.named_parameters():
            if not p.requires_grad:
                continue
            if p.grad is None:
                unused.append(name)
            elif not torch.isfinite(p.grad).all():
                nonfinite.append(name)
            elif p.grad.ne(0).any():
                alive.add(name)
        lm.zero_grad(set_to_none=True)
        if unused:
            result.errors.append(Finding(
                "gradient", "gradient", f"{len(unused)} parameter(s) get no gradient: {', '.join(unused[:6])}",
                "Every parameter must take part in the output: remove unused ones, and avoid .detach(), "
                "torch.no_grad() or integer casts on the path from a parameter to Y."))
        if nonfinite:
            result.errors.append(Finding(
                "gradient", "gradient", f"non-finite gradient for: {', '.join(nonfinite[:6])}",
                "Look for sqrt/log/division at 0 and exp overflow; clamp inputs of such functions."))
        if unused or nonfinite:
            return [result]
        dead = dead_parameters(ctx, alive, result)
        if dead:
            result.errors.append(Finding(
                "gradient", "gradient", f"{len(dead)} parameter(s) get an exactly zero gradient, at init and with "
                f"randomly perturbed weights: {', '.join(dead[:8])}" + (" ..." if len(dead) > 8 else ""), HINT_DEAD))
    return [result]
