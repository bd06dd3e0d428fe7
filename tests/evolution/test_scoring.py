"""Records -> Score rows -> fitness: hand-computed cases for Eq. 1 with the baseline filter, the averaging of seeds,
the val-loss row, Massey ratings, and the noise helpers."""
import pytest

from genesys.evaluate.fitness import Score
from genesys.evolution.scoring import (average_rows, differs, massey_ratings, noise_spread, population_fitness,
                                       rows_from_record, seed_fitness_spread)


def acc(value, random=0.25):
    return {"metric": "acc", "acc": value, "random_baseline": random}


def record(design, scale, eval=None, val_loss=None, unigram=None):
    return {"design": design, "scale": scale, "eval": eval, "val_loss": val_loss, "unigram_val_loss": unigram,
            "params": {"total": 1000}, "stop_reason": "completed"}


def test_rows_from_record_reads_every_table_and_the_loss_row():
    rec = record("a", "cpu_xs", eval={"local": {"t1": acc(0.4)}, "proxy": {"recall": acc(0.9, 0.1)},
                                       "seconds": 3.0}, val_loss=3.0, unigram=6.0)
    rows = {r.task: r for r in rows_from_record("a", "cpu_xs", rec)}
    assert set(rows) == {"t1", "recall", "lm"}
    lm = rows["lm"]
    assert (lm.metric, lm.value, lm.random_baseline, lm.higher_is_better, lm.best) == ("val_loss", 3.0, 6.0, False, 0.0)
    assert lm.normalised == pytest.approx(0.5)          # half way from the unigram loss to zero
    assert lm.gain == pytest.approx(3.0)                # nats better than unigram
    assert rows["recall"].normalised == pytest.approx((0.9 - 0.1) / 0.9)


@pytest.mark.parametrize("val_loss, unigram", [(None, 6.0), (3.0, None), (None, None)])
def test_an_unmeasured_loss_gives_no_row(val_loss, unigram):
    rec = record("a", "proxy", eval={"proxy": {"t": acc(0.5)}}, val_loss=val_loss, unigram=unigram)
    assert [r.task for r in rows_from_record("a", "proxy", rec)] == ["t"]
    assert rows_from_record("a", "proxy", record("a", "proxy")) == []    # no eval, no losses: nothing


def test_seeds_of_one_design_are_averaged_per_metric():
    rows = (rows_from_record("a", "r", record("a", "r", {"proxy": {"t": acc(0.5), "u": acc(0.3)}}))
            + rows_from_record("a", "r", record("a", "r", {"proxy": {"t": acc(0.7)}})))
    avg = {r.task: r.value for r in average_rows(rows)}
    assert avg == {"t": pytest.approx(0.6), "u": pytest.approx(0.3)}   # u: only the seed that measured it


def population():
    """a: two seeds at proxy (t1 0.5 / 0.6 -> 0.55) and one cpu_xs run; b: proxy only.
    t2 never beats random by 0.02 (max gain 0.01) and is dropped by the filter."""
    return [
        record("a", "proxy", {"proxy": {"t1": acc(0.5), "t2": acc(0.51, 0.5)}}),
        record("a", "proxy", {"proxy": {"t1": acc(0.6), "t2": acc(0.51, 0.5)}}),
        record("a", "cpu_xs", None, val_loss=4.0, unigram=8.0),
        record("b", "proxy", {"proxy": {"t1": acc(0.4), "t2": acc(0.505, 0.5)}}),
    ]


def test_eq1_fitness_hand_computed():
    f = population_fitness(population(), method="eq1")
    # a: proxy (0.55 - 0.25) / 0.75 = 0.4, cpu_xs (8 - 4) / 8 = 0.5 -> mean over rungs 0.45
    # b: proxy (0.4 - 0.25) / 0.75 = 0.2 ; t2 filtered out (with it, b would be (0.2 + 0.01) / 2)
    assert f == {"a": pytest.approx(0.45), "b": pytest.approx(0.2)}


def test_filter_margin_is_a_parameter():
    f = population_fitness(population(), method="eq1", margin=0.005)   # now t2 (gain 0.01) is kept
    assert f["b"] == pytest.approx((0.2 + 0.005 / 0.5) / 2)


def score(design, task, value):
    return Score(design, "r", task, "acc", value, 0.0, True, 1.0)


def test_massey_ratings_hand_checked():
    # m1: A 0.9, B 0.5, C 0.2 (three games); m2: A 0.3, B 0.6, C absent (one game, B wins by 0.3).
    # Normal equations L r = p with L = [[3,-2,-1],[-2,3,-1],[-1,-1,2]], p = [0.8, 0.2, -1.0], sum r = 0
    # -> r = (17, 8, -25) / 75.
    rows = [score("A", "m1", 0.9), score("B", "m1", 0.5), score("C", "m1", 0.2),
            score("A", "m2", 0.3), score("B", "m2", 0.6)]
    r = massey_ratings(rows, margin=0.02, draw_margin=0.01)
    assert r == {"A": pytest.approx(17 / 75), "B": pytest.approx(8 / 75), "C": pytest.approx(-25 / 75)}


def test_massey_draw_margin_and_filter():
    rows = [score("A", "m1", 0.505), score("B", "m1", 0.5)]        # within the draw margin: a tie
    assert massey_ratings(rows, draw_margin=0.01) == {"A": pytest.approx(0.0), "B": pytest.approx(0.0)}
    assert massey_ratings(rows, draw_margin=0.001)["A"] == pytest.approx(0.0025)
    weak = [Score(d, "r", "t", "acc", v, 0.5) for d, v in (("A", 0.51), ("B", 0.5))]
    assert massey_ratings(weak) == {}                               # nothing beats random by 0.02


def test_population_fitness_massey_orders_like_eq1_here():
    f = population_fitness(population(), method="massey")
    assert f["a"] > f["b"] and f["a"] + f["b"] == pytest.approx(0.0)
    with pytest.raises(ValueError):
        population_fitness(population(), method="colley")


def test_noise_helpers():
    # the cpu_xs example: gpt2 over seeds 0/1/2
    assert noise_spread([5.18, 5.26, 5.77, None]) == pytest.approx(0.59)
    assert noise_spread([5.18]) is None
    seeds = [record("gpt2", "cpu_xs", None, val_loss=v, unigram=7.0) for v in (5.18, 5.26, 5.77)]
    assert seed_fitness_spread(seeds) == pytest.approx(0.59 / 7.0)
    assert differs(0.30, 0.20, noise=0.05) and not differs(0.30, 0.27, noise=0.05)
    assert not differs(None, 0.2, 0.0) and differs(0.2, 0.21, None)


def test_massey_separate_groups_each_sum_to_zero():
    # A, B share m1 only; C, D share m2 only: two groups that never meet, each rated on its own
    rows = [score("A", "m1", 0.9), score("B", "m1", 0.5), score("C", "m2", 0.8), score("D", "m2", 0.2),
            score("E", "m3", 0.7)]
    r = massey_ratings(rows, draw_margin=0.0)
    assert r == {"A": pytest.approx(0.2), "B": pytest.approx(-0.2), "C": pytest.approx(0.3),
                 "D": pytest.approx(-0.3), "E": pytest.approx(0.0)}
