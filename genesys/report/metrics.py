"""The evolution's metrics (paper Tables 2 and 3), pure functions over plain numbers.

Population fitness curve: designs in the order they were made (seeds excluded from the sequence, used as the
start), and at t = s, 2s, ... the population is the best `P` designs among the first t (seeds included); the curve
value is the population's mean fitness. On that curve f_0 ... f_n (increments d_i = f_i - f_{i-1}):
  delta_pct     = 100 (f_n - f_0) / |f_0|                 (Δ: gain from the first to the last point)
  delta_max_pct = 100 (max_i f_i - f_0) / |f_0|           (Δmax)
  sharpe        = mean(d) / sd(d)                         (Sharpe ratio of the increments; sd over the population of
                                                           increments; None when sd = 0)
  volatility    = sd(d)
  max_drawdown_pct = 100 min_i (f_i - max_{j<=i} f_j) / |max_{j<=i} f_j|   (MDD, <= 0)
Verification error rate = failed / (done + failed) verifications.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import List, Optional, Sequence


@dataclass(frozen=True)
class CurveMetrics:
    points: List[float]
    delta_pct: Optional[float]
    delta_max_pct: Optional[float]
    sharpe: Optional[float]
    volatility: Optional[float]
    max_drawdown_pct: Optional[float]


def population_curve(seed_fitness: Sequence[float], design_fitness: Sequence[Optional[float]], population: int = 5,
                     every: int = 1) -> List[float]:
    """Mean fitness of the best `population` designs known after each `every` new designs (a design without a
    fitness, e.g. failed, joins the sequence but not the population). The first point is the seeds alone."""
    known = [f for f in seed_fitness if f is not None]
    points = []
    if known:
        points.append(statistics.mean(sorted(known, reverse=True)[:population]))
    for t, f in enumerate(design_fitness, start=1):
        if f is not None:
            known.append(f)
        if t % every == 0 and known:
            points.append(statistics.mean(sorted(known, reverse=True)[:population]))
    return points


def curve_metrics(points: Sequence[float]) -> CurveMetrics:
    points = list(points)
    if len(points) < 2 or points[0] == 0:
        return CurveMetrics(points, None, None, None, None, None)
    base = abs(points[0])
    increments = [b - a for a, b in zip(points, points[1:])]
    sd = statistics.pstdev(increments)
    peak, drawdown = points[0], 0.0
    for p in points:
        peak = max(peak, p)
        if peak != 0:
            drawdown = min(drawdown, (p - peak) / abs(peak))
    return CurveMetrics(points, 100 * (points[-1] - points[0]) / base, 100 * (max(points) - points[0]) / base,
                        statistics.mean(increments) / sd if sd > 0 else None, sd, 100 * drawdown)


def error_rate(statuses: Sequence[str]) -> Optional[float]:
    """Failed share of the finished verifications (done or failed); None when none finished."""
    finished = [s for s in statuses if s in ("done", "failed")]
    return sum(s == "failed" for s in finished) / len(finished) if finished else None
