"""The evolution's own scorecard (paper Tables 2-4): how the population's fitness moved over the design sequence, how
often verification broke, and what each designer and operator yielded. Pure functions over plain values; the formulas
are spelled out in docs/metrics.md.

Curve metrics are in percent of the curve's first point, so Δ, Δmax, volatility and drawdown share one unit and the
increments sum to Δ. A value that cannot be computed (too few points, a zero start) is None, never a filler.
"""
from __future__ import annotations

from dataclasses import dataclass
from statistics import mean, stdev
from typing import Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Union

from genesys.evolution.stats import operator_stats

FitnessAt = Union[Mapping[str, float], Callable[[int], Mapping[str, float]]]
OK_STOP = "completed"   # a verification record's stop_reason when training ran to its end


@dataclass(frozen=True)
class CurvePoint:
    t: int          # designs of the sequence seen (seeds not counted)
    value: float    # mean fitness of the population: the best `top` known fitness values among seeds + first t
    size: int       # designs in that population (< top while fewer are known)


def sample_points(n: int, every: int) -> List[int]:
    """t = 0, every, 2·every, ... and n itself (the last point is always the whole sequence)."""
    if every < 1:
        raise ValueError(f"sample every >= 1 designs, got {every}")
    points = list(range(0, n + 1, every))
    if points[-1] != n:
        points.append(n)
    return points


def population_curve(order: Sequence[str], fitness: FitnessAt, top: int = 50, every: int = 10,
                     seeds: Sequence[str] = ()) -> List[CurvePoint]:
    """The population fitness at t = 0, every, 2·every, ..., len(order).

    order: the new designs in the order they were made. fitness: {design: fitness}, or a function of t giving the
    fitness known at that point (an online curve). The population at t is seeds + order[:t]; its value is the mean of
    its best `top` known fitness values. Points with no known fitness are left out (t = 0 without seeds)."""
    if top < 1:
        raise ValueError(f"population size top >= 1, got {top}")
    curve = []
    for t in sample_points(len(order), every):
        known = fitness(t) if callable(fitness) else fitness
        values = sorted((known[d] for d in list(seeds) + list(order[:t]) if known.get(d) is not None), reverse=True)
        if values:
            best = values[:top]
            curve.append(CurvePoint(t, mean(best), len(best)))
    return curve


def increments(values: Sequence[float]) -> Optional[List[float]]:
    """r_i = 100 · (y_i − y_{i−1}) / |y_0|: each step's change in percent of the starting fitness (None if y_0 = 0)."""
    if not values or values[0] == 0:
        return None
    scale = abs(values[0])
    return [100.0 * (b - a) / scale for a, b in zip(values, values[1:])]


def max_drawdown(values: Sequence[float]) -> Optional[float]:
    """MDD = min_i (y_i − max_{j≤i} y_j) / |y_0| · 100 (≤ 0; 0 when the curve never falls)."""
    if not values or values[0] == 0:
        return None
    peak, worst = values[0], 0.0
    for y in values:
        peak = max(peak, y)
        worst = min(worst, y - peak)
    return 100.0 * worst / abs(values[0])


def curve_metrics(values: Sequence[float]) -> Dict[str, Optional[float]]:
    """{delta, delta_max, sharpe, volatility, max_drawdown, points} of a population curve (values in order).

    delta = 100 (y_n − y_0)/|y_0|; delta_max = 100 (max y − y_0)/|y_0|; volatility = sample std (n−1) of the
    increments r_i; sharpe = mean(r)/volatility (None when volatility is 0 or there are < 2 increments)."""
    values = [float(v) for v in values]
    r = increments(values)
    out: Dict[str, Optional[float]] = {"points": len(values), "delta": None, "delta_max": None, "sharpe": None,
                                       "volatility": None, "max_drawdown": max_drawdown(values)}
    if r is None:
        return out
    out["delta"] = sum(r)
    out["delta_max"] = 100.0 * (max(values) - values[0]) / abs(values[0])
    if len(r) >= 2:
        out["volatility"] = stdev(r)
        out["sharpe"] = mean(r) / out["volatility"] if out["volatility"] > 0 else None
    return out


def verification_error_rate(verifications: Iterable[Mapping]) -> Dict[str, Optional[float]]:
    """{designs, errored, rate}: the share of designs with a verification attempt in which at least one attempt
    failed (a crash, a timeout, an expired lease: ``attempts`` > 0 or status "failed") or training stopped early (a
    done record whose stop_reason is not "completed", e.g. nan_loss). verifications: {design, status, attempts,
    stop_reason}; pass only the designs that should count (the paper counts new designs, not the seeds)."""
    tried: Dict[str, bool] = {}
    for v in verifications:
        if v["status"] == "pending" and not v.get("attempts"):
            continue   # queued, never run
        bad = bool(v.get("attempts")) or v["status"] == "failed" or (
            v["status"] == "done" and v.get("stop_reason") not in (None, OK_STOP))
        tried[v["design"]] = tried.get(v["design"], False) or bad
    errored = sum(tried.values())
    return {"designs": len(tried), "errored": errored, "rate": errored / len(tried) if tried else None}


def designer_stats(requests: Iterable[Mapping]) -> Dict[str, dict]:
    """Per designer kind (paper Table 4): {requests, designs, validity_rate, attempts_mean, attempts_std, cost_usd,
    cost_per_design}. requests: one per design request, {designer, valid (a design was stored), attempts, cost_usd
    (None when not measured)}. validity_rate = designs / requests; attempts over all requests; cost_per_design = the
    measured cost of the stored designs / how many of them have a measured cost."""
    groups: Dict[str, List[Mapping]] = {}
    for r in requests:
        groups.setdefault(r["designer"], []).append(r)
    out = {}
    for kind, rs in sorted(groups.items()):
        attempts = [int(r["attempts"]) for r in rs if r.get("attempts") is not None]
        valid = [r for r in rs if r["valid"]]
        costs = [float(r["cost_usd"]) for r in valid if r.get("cost_usd") is not None]
        out[kind] = {"requests": len(rs), "designs": len(valid), "validity_rate": len(valid) / len(rs),
                     "attempts_mean": mean(attempts) if attempts else None,
                     "attempts_std": stdev(attempts) if len(attempts) >= 2 else None,
                     "cost_usd": sum(costs) if costs else None,
                     "cost_per_design": sum(costs) / len(costs) if costs else None}
    return out


def operator_table(attempts: Iterable[Mapping], designs: Iterable[Mapping],
                   fitness: Mapping[str, float]) -> Dict[str, dict]:
    """Per symbolic operator: attempts, valid, valid_share, designs (children stored), mean_fitness and mean_gain
    (a child's fitness − its best parent's, over children and parents with a known fitness). The same numbers the
    run's summary.json holds (genesys.evolution.stats.operator_stats), here recomputed on the fitness the report uses."""
    return operator_stats(attempts, designs, fitness)
