"""From verification records to fitness: records -> Score rows -> population fitness.

A record is `VerificationRecord.to_dict()` (genesys.verify.record). Its evaluation tables (record["eval"]["local" |
"paper" | "proxy"]) become rows through genesys.evaluate.fitness.rows_from_table; an LM rung's validation loss becomes
one more row, normalised against the unigram baseline (0 = no better than unigram statistics, 1 = zero loss), when both
losses were measured. A field that was not measured gives no row, never a filler.

The same design verified at one rung with several training seeds is averaged per metric before fitness, so seed noise
shrinks instead of counting as several designs' worth of evidence.

Two aggregations: "eq1" (the paper's Eq. 1, genesys.evaluate.fitness.fitness) and "massey" (the original code's
default: every kept metric is a round of pairwise games between the designs that have it, and Massey's least-squares
ratings turn the score margins into one number per design; ratings sum to zero, so only their order and gaps mean
anything). Pure logic, no I/O.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from genesys.evaluate.fitness import Score, fitness as eq1_fitness, kept_metrics, rows_from_table

EVAL_KINDS = ("local", "paper", "proxy")
LM_TASK, LM_METRIC = "lm", "val_loss"


def rows_from_record(design: str, rung: str, record: dict) -> List[Score]:
    """Every score one verification record holds: its evaluation tables and, on LM rungs, the val-loss row."""
    rows: List[Score] = []
    tables = record.get("eval") or {}
    for kind in EVAL_KINDS:
        table = tables.get(kind)
        if isinstance(table, dict):
            rows.extend(rows_from_table(design, rung, table))
    loss, unigram = record.get("val_loss"), record.get("unigram_val_loss")
    if loss is not None and unigram is not None:
        rows.append(Score(design, rung, LM_TASK, LM_METRIC, float(loss), float(unigram),
                          higher_is_better=False, best=0.0))
    return rows


def average_rows(rows: Iterable[Score]) -> List[Score]:
    """One row per (design, scale, task, metric): the mean value and mean baseline over the rows given (the seeds of
    one design at one rung). A seed that lacks a metric simply does not count for it."""
    groups: Dict[Tuple[str, str, str, str], List[Score]] = defaultdict(list)
    for r in rows:
        groups[(r.design, r.scale, r.task, r.metric)].append(r)
    out = []
    for (design, scale, task, metric), group in groups.items():
        first = group[0]
        if len(group) == 1:
            out.append(first)
            continue
        out.append(Score(design, scale, task, metric,
                         sum(r.value for r in group) / len(group),
                         sum(r.random_baseline for r in group) / len(group),
                         first.higher_is_better, first.best))
    return out


def _key(record: dict) -> Tuple[str, str]:
    return record["design"], record["scale"]


def population_rows(records: Iterable[dict]) -> List[Score]:
    """Seed-averaged rows of a whole population. Each record names its design and rung in its own "design" and
    "scale" fields (pass a copy with "design" replaced if the store names designs differently)."""
    rows: List[Score] = []
    for record in records:
        design, rung = _key(record)
        rows.extend(rows_from_record(design, rung, record))
    return average_rows(rows)


def massey_ratings(rows: Sequence[Score], margin: float = 0.02, draw_margin: float = 0.01) -> Dict[str, float]:
    """Massey ratings from the kept metrics (random-baseline filter as in Eq. 1).

    Every kept (scale, task, metric) is a round in which each pair of designs that has it plays one game; the game's
    margin is the difference of their normalised scores, counted as a draw (margin 0) when within `draw_margin`.
    The ratings r solve min ||r_i - r_j - margin_ij||^2 over all games, with minimum norm (each connected group of
    designs sums to zero), which is what the original code's ranking library computed with lsqr. Cost: one dense
    solve over the designs (about a second at 1,000 designs on a CPU core), plus pairwise games per metric."""
    import numpy as np

    rows = average_rows(rows)  # one row per design and metric: a design plays each round once
    kept = kept_metrics(rows, margin)
    designs = sorted({r.design for r in rows if r.key in kept})
    if not designs:
        return {}
    index = {d: i for i, d in enumerate(designs)}
    n = len(designs)
    laplacian = np.zeros((n, n))
    target = np.zeros(n)
    by_key: Dict[tuple, List[Score]] = defaultdict(list)
    for r in rows:
        if r.key in kept:
            by_key[r.key].append(r)
    for group in by_key.values():
        idx = np.array([index[r.design] for r in group])
        values = np.array([r.normalised for r in group])
        diff = values[:, None] - values[None, :]
        diff[np.abs(diff) <= draw_margin] = 0.0
        k = len(idx)
        laplacian[np.ix_(idx, idx)] -= 1.0
        laplacian[idx, idx] += k          # k - 1 games each, after the -1 on the diagonal above
        target[idx] += diff.sum(axis=1)
    ratings = np.zeros(n)
    for members in _components(n, [[index[r.design] for r in g] for g in by_key.values()]):
        idx = np.array(members)
        # on one connected group, L + 11^T is invertible and its solution is L's sum-zero (minimum-norm) solution,
        # because the margins in p sum to zero; np.linalg.solve is far cheaper than a pseudo-inverse
        ratings[idx] = np.linalg.solve(laplacian[np.ix_(idx, idx)] + 1.0, target[idx])
    return {d: float(ratings[index[d]]) for d in designs}


def _components(n: int, groups: List[List[int]]) -> List[List[int]]:
    """Connected groups of designs (two designs are connected when they played a game), by union-find."""
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for g in groups:
        for j in g[1:]:
            parent[find(j)] = find(g[0])
    comps: Dict[int, List[int]] = defaultdict(list)
    for i in range(n):
        comps[find(i)].append(i)
    return list(comps.values())


def fitness_from_rows(rows: Sequence[Score], method: str = "eq1", margin: float = 0.02,
                      draw_margin: float = 0.01) -> Dict[str, float]:
    if method == "eq1":
        return eq1_fitness(rows, margin)
    if method == "massey":
        return massey_ratings(rows, margin, draw_margin)
    raise ValueError(f"unknown fitness method {method!r} (eq1 | massey)")


def population_fitness(records: Iterable[dict], method: str = "eq1", margin: float = 0.02,
                       draw_margin: float = 0.01) -> Dict[str, float]:
    """{design: fitness} over every record of the population (recomputed whenever it changes: the baseline filter
    and Massey's games depend on all designs). Designs with no kept metric get no entry (fitness unknown)."""
    return fitness_from_rows(population_rows(records), method, margin, draw_margin)


def noise_spread(values: Iterable[Optional[float]]) -> Optional[float]:
    """max - min of the measured values (one design, one rung, several seeds); None with fewer than two."""
    measured = [v for v in values if v is not None]
    return max(measured) - min(measured) if len(measured) >= 2 else None


def seed_fitness_spread(records: Sequence[dict], population: Iterable[dict] = (), margin: float = 0.02
                        ) -> Optional[float]:
    """A rung's noise in fitness units: the Eq. 1 fitness of each seed's record of one design at one rung on its
    own, with the metrics the whole population keeps (population + records), then max - min."""
    pop_rows = population_rows(list(population) + list(records))
    kept = kept_metrics(pop_rows, margin)
    values = []
    for record in records:
        design, rung = _key(record)
        rows = [r for r in rows_from_record(design, rung, record) if r.key in kept]
        values.append(eq1_fitness(rows, margin=float("-inf")).get(design) if rows else None)
    return noise_spread(values)


def differs(a: Optional[float], b: Optional[float], noise: Optional[float]) -> bool:
    """Whether two fitness values differ by more than a rung's measured noise. Unknown values never differ; an
    unmeasured noise (None) means any gap counts."""
    if a is None or b is None:
        return False
    return abs(a - b) > (noise or 0.0)
