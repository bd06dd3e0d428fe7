"""Fitness (paper Eq. 1) on a hand-made population: normalisation, the random-baseline filter, the ranking."""
import pytest

from genesys.evaluate.fitness import Score, fitness, kept_metrics, rows_from_table


def population():
    rows = []
    # task "mc": 4-way multiple choice; a > b > c
    for design, acc in (("a", 0.70), ("b", 0.55), ("c", 0.40)):
        rows.append(Score(design, "14M", "mc", "acc", acc, 0.25))
    # task "hard": nobody beats chance by 0.02 -> filtered out, even though it would flip the ranking
    for design, acc in (("a", 0.49), ("b", 0.51), ("c", 0.515)):
        rows.append(Score(design, "14M", "hard", "acc", acc, 0.5))
    # a lower-is-better metric: bits per byte against a uniform model's 8.0
    for design, bpb in (("a", 2.0), ("b", 4.0), ("c", 6.0)):
        rows.append(Score(design, "14M", "bpb", "bits_per_byte", bpb, 8.0, higher_is_better=False))
    # only a was verified at the next scale, where it did well
    rows.append(Score("a", "31M", "mc", "acc", 0.85, 0.25))
    return rows


def test_filter_keeps_only_metrics_someone_beats_by_margin():
    kept = kept_metrics(population())
    assert ("14M", "hard", "acc") not in kept
    assert {("14M", "mc", "acc"), ("14M", "bpb", "bits_per_byte"), ("31M", "mc", "acc")} <= kept


def test_fitness_ranking_and_values():
    f = fitness(population())
    assert f["a"] > f["b"] > f["c"]
    # b at 14M: mc (0.55-0.25)/0.75 = 0.4, bpb (8-4)/8 = 0.5 -> 0.45; 'hard' is ignored
    assert f["b"] == pytest.approx(0.45)
    # a: 14M (0.6 + 0.75)/2 = 0.675; 31M 0.8 -> mean over its two scales
    assert f["a"] == pytest.approx((0.675 + 0.8) / 2)


def test_filter_changes_with_the_population():
    """Adding a design that beats chance on 'hard' brings the metric (and its ranking signal) back."""
    rows = population() + [Score("d", "14M", "hard", "acc", 0.60, 0.5)]
    assert ("14M", "hard", "acc") in kept_metrics(rows)
    f = fitness(rows)
    # c: mc (0.40-0.25)/0.75 = 0.2, bpb (8-6)/8 = 0.25, hard (0.515-0.5)/0.5 = 0.03
    assert f["c"] == pytest.approx((0.2 + 0.25 + 0.03) / 3)


def test_rows_from_an_evaluation_table():
    table = {"genesys_next_line": {"acc": 0.4, "acc_norm": 0.3, "metric": "acc", "random_baseline": 0.25,
                                   "higher_is_better": True},
             "genesys_heldout": {"bits_per_byte": 3.0, "metric": "bits_per_byte", "random_baseline": 6.0,
                                 "higher_is_better": False},
             "unknown_baseline": {"acc": 0.9}}
    rows = rows_from_table("x", "14M", table)
    assert {(r.task, r.metric, r.value) for r in rows} == {("genesys_next_line", "acc", 0.4),
                                                           ("genesys_heldout", "bits_per_byte", 3.0)}
    assert fitness(rows)["x"] == pytest.approx(((0.4 - 0.25) / 0.75 + 0.5) / 2)
