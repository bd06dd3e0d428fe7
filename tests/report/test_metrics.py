"""The scorecard's formulas on curves and tables small enough to compute by hand."""
import math

import pytest

from genesys.report import metrics as m


def test_population_is_the_mean_of_the_best_p_among_seeds_and_the_first_t():
    fitness = {"s": 1.0, "a": 3.0, "b": 0.5, "c": 2.0, "d": 5.0}
    curve = m.population_curve(["a", "b", "c", "d"], fitness, top=2, every=2, seeds=["s"])
    assert [(p.t, p.value, p.size) for p in curve] == [
        (0, 1.0, 1),            # seeds only
        (2, 2.0, 2),            # {s 1, a 3, b .5}: best two 3, 1
        (4, 4.0, 2)]            # best two of all: 5, 3


def test_the_last_point_is_the_whole_sequence_and_unknown_fitness_is_skipped():
    fitness = {"a": 1.0, "c": 2.0}        # b was never measured
    curve = m.population_curve(["a", "b", "c"], fitness, top=5, every=2)
    assert [(p.t, p.value) for p in curve] == [(2, 1.0), (3, 1.5)]   # t=0 has no known design: left out


def test_an_online_curve_asks_the_fitness_known_at_each_point():
    asked = []

    def fitness_at(t):
        asked.append(t)
        return {"a": 1.0 + t}

    curve = m.population_curve(["a", "b"], fitness_at, top=1, every=1)
    assert asked == [0, 1, 2] and [p.value for p in curve] == [2.0, 3.0]


def test_curve_metrics_by_hand():
    # y = 2, 2.2, 2.1, 2.4: increments in % of y0 = 10, -5, 15
    out = m.curve_metrics([2.0, 2.2, 2.1, 2.4])
    assert out["delta"] == pytest.approx(20.0)
    assert out["delta_max"] == pytest.approx(20.0)
    sd = math.sqrt(((10 - 20 / 3) ** 2 + (-5 - 20 / 3) ** 2 + (15 - 20 / 3) ** 2) / 2)
    assert out["volatility"] == pytest.approx(sd)
    assert out["sharpe"] == pytest.approx((20 / 3) / sd)
    assert out["max_drawdown"] == pytest.approx(-5.0)      # 2.2 -> 2.1 is 0.1 = 5 % of y0
    assert out["points"] == 4


def test_delta_max_and_drawdown_when_the_curve_ends_below_its_peak():
    out = m.curve_metrics([1.0, 1.5, 1.2, 1.3])
    assert out["delta"] == pytest.approx(30.0)
    assert out["delta_max"] == pytest.approx(50.0)
    assert out["max_drawdown"] == pytest.approx(-30.0)


def test_undefined_metrics_are_none_not_fillers():
    flat = m.curve_metrics([1.0, 1.0, 1.0])
    assert flat["delta"] == 0 and flat["volatility"] == 0 and flat["sharpe"] is None
    zero = m.curve_metrics([0.0, 1.0, 2.0])
    assert zero["delta"] is None and zero["sharpe"] is None and zero["max_drawdown"] is None
    one = m.curve_metrics([1.0, 2.0])
    assert one["delta"] == pytest.approx(100.0) and one["volatility"] is None and one["sharpe"] is None
    assert m.curve_metrics([])["delta"] is None


def test_a_negative_start_is_scaled_by_its_magnitude():
    # massey ratings can be negative: a rise is still a positive delta
    assert m.curve_metrics([-2.0, -1.0])["delta"] == pytest.approx(50.0)


def test_error_rate_counts_designs_with_a_failed_attempt_or_an_early_stop():
    rows = [
        {"design": "ok", "status": "done", "attempts": 0, "stop_reason": "completed"},
        {"design": "ok", "status": "done", "attempts": 0, "stop_reason": "completed"},
        {"design": "crashed-once", "status": "done", "attempts": 1, "stop_reason": "completed"},
        {"design": "diverged", "status": "done", "attempts": 0, "stop_reason": "nan_loss"},
        {"design": "dead", "status": "failed", "attempts": 3, "stop_reason": None},
        {"design": "queued", "status": "pending", "attempts": 0, "stop_reason": None},
    ]
    assert m.verification_error_rate(rows) == {"designs": 4, "errored": 3, "rate": 0.75}
    assert m.verification_error_rate([])["rate"] is None


def test_designer_stats_by_hand():
    requests = [
        {"designer": "llm", "valid": True, "attempts": 2, "cost_usd": 0.5},
        {"designer": "llm", "valid": True, "attempts": 4, "cost_usd": None},   # cost not measured
        {"designer": "llm", "valid": False, "attempts": 10, "cost_usd": None},
        {"designer": "symbolic", "valid": True, "attempts": 1, "cost_usd": None},
    ]
    out = m.designer_stats(requests)
    llm = out["llm"]
    assert llm["requests"] == 3 and llm["designs"] == 2
    assert llm["validity_rate"] == pytest.approx(2 / 3)
    assert llm["attempts_mean"] == pytest.approx(16 / 3)
    assert llm["attempts_std"] == pytest.approx(math.sqrt(((2 - 16 / 3) ** 2 + (4 - 16 / 3) ** 2
                                                          + (10 - 16 / 3) ** 2) / 2))
    assert llm["cost_usd"] == 0.5 and llm["cost_per_design"] == 0.5      # over the designs with a measured cost
    sym = out["symbolic"]
    assert sym["validity_rate"] == 1.0 and sym["cost_per_design"] is None and sym["attempts_std"] is None


def test_operator_gain_is_over_the_best_parent():
    attempts = [{"operator": "graft", "valid": True}, {"operator": "graft", "valid": False}]
    designs = [{"name": "p", "operator": None, "parents": []}, {"name": "q", "operator": None, "parents": []},
               {"name": "c", "operator": "graft", "parents": ["p", "q"]}]
    out = m.operator_table(attempts, designs, {"p": 0.1, "q": 0.3, "c": 0.4})
    assert out["graft"]["valid_share"] == 0.5 and out["graft"]["designs"] == 1
    assert out["graft"]["mean_gain"] == pytest.approx(0.1)


def test_bad_parameters_are_refused():
    with pytest.raises(ValueError):
        m.population_curve(["a"], {"a": 1.0}, top=0)
    with pytest.raises(ValueError):
        m.sample_points(3, 0)
