"""Efficiency against the gpt2 seed at the same scale and lengths: training-step time, peak memory, and the
growth exponent of time with length.

Slow is not wrong. Time is an error only where verification would be infeasible, a warning otherwise; the
measured ratios stay in the report's metrics (`time_ratio`, `time_ratios` per length, and
`time_ratio_projected`, the ratio carried to the training context with the fitted growth exponents) so
selection can weigh them. Errors: a step time above `time_error` (20x) gpt2's at the longest check length;
growth clearly beyond attention's quadratic (`growth_error`, time ~ L^2.5); or a single step slower than
`max_step_seconds` before the longest length is reached. Why 20x: the original seeds ran 8-46x slower than
their GPT on GPU and were valid; at the check scale (CPU, width 64) a plain per-token Python scan costs 1-5x,
so 20x here is far beyond any straightforward implementation, and a design that slow would spend the ladder
budget of twenty gpt2 verifications on one. Memory keeps the original checker's 2x warn / 4x error."""
from __future__ import annotations

import math
import time
from typing import Dict, List


from genesys.checker.report import CheckResult, Finding
from genesys.checker.runtime.common import build_lm, classify, timed, tokens
from genesys.checker.runtime.memory import PeakMemory


def _step(lm, ids) -> None:
    lm.zero_grad(set_to_none=True)
    lm(ids, labels=ids).loss.backward()


def _time(lm, ids) -> float:
    start = time.perf_counter()
    _step(lm, ids)
    return time.perf_counter() - start


def growth_exponent(lengths: List[int], seconds: List[float]) -> float:
    """Least-squares slope of log(time) against log(length)."""
    xs, ys = [math.log(l) for l in lengths], [math.log(max(s, 1e-9)) for s in seconds]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den if den else 0.0


def measure(ctx, ref) -> Dict[str, dict]:
    """Min-of-repeats step time per length for design and reference (interleaved, so noise hits both)."""
    cfg = ctx.cfg["efficiency"]
    times: Dict[str, Dict[int, float]] = {"design": {}, "reference": {}}
    for length in cfg["lengths"]:
        ids = tokens(cfg["batch_size"], length, ctx.cfg["vocab_size"], seed=length)
        for lm in (ctx.lm, ref):
            _step(lm, ids)  # warm-up
        best = {"design": float("inf"), "reference": float("inf")}
        for _ in range(cfg["repeats"]):
            best["design"] = min(best["design"], _time(ctx.lm, ids))
            best["reference"] = min(best["reference"], _time(ref, ids))
        for k in best:
            times[k][length] = best[k]
        if best["design"] > cfg["max_step_seconds"]:
            break  # pathological cost: no need to go longer
    return times


def peak_memory(lm, ids) -> int:
    with PeakMemory() as mem:
        _step(lm, ids)
    lm.zero_grad(set_to_none=True)
    return mem.peak


def check_efficiency(ctx) -> List[CheckResult]:
    results = _measure_and_judge(ctx)
    errors = [f for r in results for f in r.errors]
    if errors:  # tell the long-context forward not to spend its time budget on a design this costly
        ctx.infeasible = f"efficiency error ({errors[0].check})"
    return results


def _measure_and_judge(ctx) -> List[CheckResult]:
    t_res, m_res, g_res = CheckResult("efficiency.time"), CheckResult("efficiency.memory"), CheckResult(
        "efficiency.growth")
    cfg = ctx.cfg["efficiency"]
    with timed(t_res):
        try:
            ref = build_lm(ctx.ref_module, ctx.cfg)
            times = measure(ctx, ref)
        except Exception as exc:
            t_res.errors.append(classify(exc, "efficiency.time"))
            return [t_res, m_res, g_res]
        lengths = sorted(times["design"])
        longest = lengths[-1]
        ratio = times["design"][longest] / times["reference"][longest]
        ctx.metrics.update({"time_ratio": ratio, "time_ratio_length": longest,
                            "time_ratios": {l: round(times["design"][l] / times["reference"][l], 3) for l in lengths},
                            "step_seconds": times["design"][longest],
                            "reference_step_seconds": times["reference"][longest]})
        if longest < max(cfg["lengths"]):
            t_res.errors.append(Finding("efficiency", "efficiency.time",
                                        f"one training step at length {longest} took {times['design'][longest]:.2f}s "
                                        f"({ratio:.1f}x gpt2); longer lengths were not tried",
                                        "The design is far too slow; look for Python loops over positions or "
                                        "cost that grows faster than L^2."))
    with timed(g_res):
        if len(lengths) >= 2:
            exp_d = growth_exponent(lengths, [times["design"][l] for l in lengths])
            exp_r = growth_exponent(lengths, [times["reference"][l] for l in lengths])
            target = ctx.cfg["numerics"]["long_length"]
            projected = ratio * (target / longest) ** (exp_d - exp_r)
            ctx.metrics.update({"growth_exponent": exp_d, "reference_growth_exponent": exp_r,
                                "time_ratio_projected": projected, "time_ratio_projected_length": target})
            if exp_d > cfg["growth_error"]:
                g_res.errors.append(Finding("efficiency", "efficiency.growth",
                                            f"step time grows like L^{exp_d:.2f} (gpt2: L^{exp_r:.2f}) over lengths "
                                            f"{lengths}", "Cost must grow at most quadratically with length."))
    if not (t_res.errors and longest < max(cfg["lengths"])):
        with timed(t_res):
            where = (f"; about {ctx.metrics['time_ratio_projected']:.1f}x projected at length "
                     f"{ctx.metrics['time_ratio_projected_length']}" if "time_ratio_projected" in ctx.metrics else "")
            _threshold(t_res, "efficiency.time", ratio, cfg["time_warn"], cfg["time_error"],
                       f"training step time is {ratio:.2f}x gpt2's at length {longest}{where}",
                       "Replace Python loops over time with a chunked/parallel form; batch small matmuls.")
    with timed(m_res):
        if t_res.errors and longest < max(cfg["lengths"]):
            m_res.skipped = "too slow to measure"
            return [t_res, m_res, g_res]
        ids = tokens(cfg["batch_size"], max(cfg["lengths"]), ctx.cfg["vocab_size"], seed=9)
        try:
            mem_d, mem_r = peak_memory(ctx.lm, ids), peak_memory(ref, ids)
        except Exception as exc:
            m_res.errors.append(classify(exc, "efficiency.memory"))
            return [t_res, m_res, g_res]
        ratio = mem_d / max(mem_r, 1)
        ctx.metrics.update({"memory_ratio": ratio, "peak_memory_mb": mem_d / 2 ** 20,
                            "reference_peak_memory_mb": mem_r / 2 ** 20})
        _threshold(m_res, "efficiency.memory", ratio, cfg["memory_warn"], cfg["memory_error"],
                   f"peak training-step memory is {ratio:.2f}x gpt2's ({mem_d / 2 ** 20:.1f} vs "
                   f"{mem_r / 2 ** 20:.1f} MiB at length {max(cfg['lengths'])})",
                   "Avoid materialising (L x L x D) or per-position state tensors; use a chunked form.")
    return [t_res, m_res, g_res]


def _threshold(result: CheckResult, check: str, ratio: float, warn: float, error: float, what: str,
               hint: str) -> None:
    if ratio > error:
        result.errors.append(Finding("efficiency", check, f"{what} (error above {error}x)", hint))
    elif ratio > warn:
        result.warnings.append(Finding("efficiency", check, f"{what} (warning above {warn}x)", hint))
