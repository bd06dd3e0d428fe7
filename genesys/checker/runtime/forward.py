"""Init, forward, shape and numerics checks: the design builds at the check scale and maps tokens to finite
logits of the right shape at every check length (1, odd, and across chunk boundaries)."""
from __future__ import annotations

from typing import List

import torch

from genesys.checker.report import CheckResult, Finding
from genesys.checker.runtime.common import build_lm, classify, first_nonfinite, run_blocks, timed, tokens, embeddings


def check_init(ctx) -> List[CheckResult]:
    result = CheckResult("init")
    with timed(result):
        try:
            ctx.lm = build_lm(ctx.module, ctx.cfg)
            ctx.metrics["params_non_embedding"] = ctx.lm.num_params(non_embedding=True)
        except Exception as exc:  # design code: any failure is a finding
            result.errors.append(classify(exc, "init", default="init"))
            return [result]
        if ctx.metrics["params_non_embedding"] == 0:
            result.warnings.append(Finding("init", "init", "the design has no parameters of its own",
                                           "A block with nothing to learn cannot model anything beyond bigrams."))
    return [result]


def check_forward(ctx) -> List[CheckResult]:
    """Forward at every check length; shape and finiteness of the logits; finiteness for unit-scale inputs."""
    fwd, shape, numerics = CheckResult("forward"), CheckResult("shape"), CheckResult("numerics")
    cfg, lm = ctx.cfg, ctx.lm
    batch = cfg["batch_size"]
    with timed(fwd):
        lm.eval()
        for length in cfg["lengths"]:
            ids = tokens(batch, length, cfg["vocab_size"], seed=length)
            try:
                with torch.no_grad():
                    logits = lm(ids)
            except Exception as exc:
                finding = classify(exc, "forward")
                finding.message = f"at length {length}: {finding.message}"
                (shape if finding.category == "shape" else fwd).errors.append(finding)
                break
            want = (batch, length, cfg["vocab_size"])
            if tuple(logits.shape) != want:
                shape.errors.append(Finding("shape", "shape", f"logits have shape {tuple(logits.shape)} at length "
                                            f"{length}, expected {want}", "Return Y with the shape of X."))
                break
            bad = first_nonfinite(logits)
            if bad is not None:
                numerics.errors.append(Finding("numerics", "numerics", f"non-finite logits at length {length}, "
                                               f"first at (batch, position, vocab) {bad}",
                                               "Look for division by a value that can be 0, log/sqrt of "
                                               "non-positive values, exp overflow (mask exponents before exp)."))
                break
        if not fwd.errors and not shape.errors and not numerics.errors:
            length = max(cfg["lengths"])
            X = embeddings(batch, length, cfg["d_model"], seed=1)
            with torch.no_grad():
                try:
                    Y = run_blocks(lm, X)
                    bad = first_nonfinite(Y)
                    if bad is not None:
                        numerics.errors.append(Finding(
                            "numerics", "numerics", f"non-finite block output for unit-variance inputs at length "
                            f"{length}, first at {bad}", "Keep every exponent bounded; normalise before exp."))
                except Exception as exc:
                    fwd.errors.append(classify(exc, "forward"))
        lm.train()
    return [fwd, shape, numerics]


HINT_LONG = ("The design overflows beyond the lengths checked above but within the training context. Factorised "
             "decays (gamma^t * cumsum(gamma^-s * u)) and growing exponents (exp(a * t)) are finite for short "
             "sequences only: compute them in chunks with the state carried between chunks, or in log space with "
             "exponents masked/subtracted before exp (segment sums, logcumsumexp).")


def check_long_context(ctx) -> List[CheckResult]:
    """One no-grad eval forward at the longest context the ladder trains (numerics.long_length, 2048 on the paper
    ladder) at the check width and batch 1: logits must be finite. Cheap (no backward, one sample), and the only
    check that reaches lengths where factorised decays overflow. Skipped when the efficiency phase already found
    the design infeasible (a design too slow at 512 would only burn the phase's time budget at 2048)."""
    result = CheckResult("numerics.long")
    if ctx.infeasible:
        result.skipped = f"not run: {ctx.infeasible}"
        return [result]
    cfg, lm = ctx.cfg, ctx.lm
    length = cfg["numerics"]["long_length"]
    with timed(result):
        lm.eval()
        ids = tokens(cfg["numerics"]["batch_size"], length, cfg["vocab_size"], seed=length)
        try:
            with torch.no_grad():
                logits = lm(ids)
        except Exception as exc:
            finding = classify(exc, "numerics.long")
            finding.message = f"at length {length} (numerics.long_length): {finding.message}"
            result.errors.append(finding)
            return [result]
        finally:
            lm.train()
        bad = first_nonfinite(logits.transpose(0, 1))  # (position, batch, vocab): the earliest position first
        if bad is not None:
            result.errors.append(Finding(
                "numerics", "numerics.long", f"non-finite logits at length {length} (the longest training context; "
                f"the forward check went up to {max(cfg['lengths'])}): first at position {bad[0]}", HINT_LONG))
    ctx.metrics["long_context_seconds"] = result.seconds
    return [result]
