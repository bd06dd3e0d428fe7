"""Differentiability: one LM training step; every parameter must be used and get a finite gradient."""
from __future__ import annotations

from typing import List

import torch

from genesys.checker.report import CheckResult, Finding
from genesys.checker.runtime.common import classify, timed, tokens


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
        unused, nonfinite = [], []
        for name, p in lm.named_parameters():
            if not p.requires_grad:
                continue
            if p.grad is None:
                unused.append(name)
            elif not torch.isfinite(p.grad).all():
                nonfinite.append(name)
        if unused:
            result.errors.append(Finding(
                "gradient", "gradient", f"{len(unused)} parameter(s) get no gradient: {', '.join(unused[:6])}",
                "Every parameter must take part in the output: remove unused ones, and avoid .detach(), "
                "torch.no_grad() or integer casts on the path from a parameter to Y."))
        if nonfinite:
            result.errors.append(Finding(
                "gradient", "gradient", f"non-finite gradient for: {', '.join(nonfinite[:6])}",
                "Look for sqrt/log/division at 0 and exp overflow; clamp inputs of such functions."))
        block_grads = [p.grad for n, p in lm.named_parameters() if n.startswith("blocks.") and p.grad is not None]
        if block_grads and all(float(g.abs().max()) == 0.0 for g in block_grads):
            result.errors.append(Finding("gradient", "gradient", "every block parameter has an exactly zero gradient",
                                         "The block output does not depend on its parameters."))
        lm.zero_grad(set_to_none=True)
    return [result]
