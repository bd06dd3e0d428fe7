"""Fitness (paper Eq. 1): the mean over verified scales of the mean over tasks of normalised scores, with the
random-baseline filter. Pure logic over a table of per-task scores, so it is recomputed whenever the
population changes (the filter depends on every design's scores, not just one).

normalised = (score - random) / (best possible - random): 0 at chance, 1 at perfect, negative below chance.
A metric (scale, task, metric) is kept only if some design beats its random baseline by >= `margin`
(absolute, in the metric's own units, in its "better" direction).
"""
from __future__ import annotations

from collections import defaultdict
from typing import Dict, Iterable, List, NamedTuple, Optional, Set, Tuple

Key = Tuple[str, str, str]  # (scale, task, metric)


class Score(NamedTuple):
    """One row of the per-task table: a design's score on one metric of one task at one scale (a named tuple:
    populations of 10,000 designs make hundreds of thousands of rows, built on every selection)."""
    design: str
    scale: str
    task: str
    metric: str
    value: float
    random_baseline: float
    higher_is_better: bool = True
    best: Optional[float] = None  # best possible value; default 1 (higher is better) or 0 (lower is better)

    @property
    def key(self) -> Key:
        return (self.scale, self.task, self.metric)

    @property
    def gain(self) -> float:
        """How far the score beats random, in the metric's units (positive = better than random)."""
        return (self.value - self.random_baseline) * (1 if self.higher_is_better else -1)

    @property
    def normalised(self) -> float:
        best = self.best if self.best is not None else (1.0 if self.higher_is_better else 0.0)
        headroom = abs(best - self.random_baseline)
        return self.gain / headroom if headroom > 0 else 0.0


def kept_metrics(rows: Iterable[Score], margin: float = 0.02) -> Set[Key]:
    """Metrics where at least one design beats the random baseline by at least `margin`."""
    best: Dict[Key, float] = defaultdict(lambda: float("-inf"))
    for r in rows:
        best[r.key] = max(best[r.key], r.gain)
    return {k for k, g in best.items() if g >= margin}


def fitness(rows: Iterable[Score], margin: float = 0.02) -> Dict[str, float]:
    """{design: fitness}. Per scale, the mean normalised score over kept metrics the design was scored on;
    then the mean over the scales at which the design has at least one kept metric."""
    rows = list(rows)
    kept = kept_metrics(rows, margin)
    per_scale: Dict[str, Dict[str, List[float]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        if r.key in kept:
            per_scale[r.design][r.scale].append(r.normalised)
    return {design: sum(sum(v) / len(v) for v in scales.values()) / len(scales)
            for design, scales in per_scale.items()}


def rows_from_table(design: str, scale: str, table: Dict[str, dict]) -> List[Score]:
    """Scores from an evaluation table ({task: {"metric": name, name: value, "random_baseline", ...}}, the
    format the harness and the proxy suite return and the verification record stores). Tasks without a
    random baseline cannot be normalised and are left out."""
    rows = []
    for task, entry in table.items():
        metric = entry.get("metric")
        if metric is None or entry.get("random_baseline") is None or metric not in entry:
            continue
        rows.append(Score(design, scale, task, metric, float(entry[metric]), float(entry["random_baseline"]),
                          bool(entry.get("higher_is_better", True)), entry.get("best")))
    return rows
