"""Determinism in eval mode: the same input gives the same logits twice."""
from __future__ import annotations

from typing import List

import torch

from genesys.checker.report import CheckResult, Finding
from genesys.checker.runtime.common import classify, timed, tokens


def check_determinism(ctx) -> List[CheckResult]:
    result = CheckResult("determinism")
    cfg, lm = ctx.cfg, ctx.lm
    with timed(result):
        lm.eval()
        ids = tokens(cfg["batch_size"], cfg["gradient"]["length"], cfg["vocab_size"], seed=5)
        try:
            with torch.no_grad():
                torch.manual_seed(1)
                a = lm(ids)
                torch.manual_seed(2)
                b = lm(ids)
        except Exception as exc:
            result.errors.append(classify(exc, "determinism"))
            return [result]
        finally:
            lm.train()
        diff = (a - b).abs().max().item()
        if diff > 1e-6 * max(a.abs().max().item(), 1.0):
            result.errors.append(Finding(
                "numerics", "determinism", f"two eval-mode forwards of the same input differ by {diff:.3g}",
                "In eval mode the output must be a function of the input: no sampling or noise outside training "
                "(guard it with `if self.training`), no state kept across calls."))
    return [result]
