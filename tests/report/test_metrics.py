"""The evolution metrics on hand-computed curves."""
import pytest

from genesys.report.metrics import curve_metrics, error_rate, population_curve


def test_population_curve_keeps_the_best_p_and_samples_every_s():
    seeds = [0.50, 0.40]
    designs = [0.45, None, 0.60, 0.30, 0.70, 0.55]
    assert population_curve(seeds, designs, population=2, every=1) == pytest.approx(
        [0.45, 0.475, 0.475, 0.55, 0.55, 0.65, 0.65])
    assert population_curve(seeds, designs, population=2, every=3) == pytest.approx([0.45, 0.55, 0.65])
    assert population_curve([], [None, 0.2], population=3) == pytest.approx([0.2])


def test_curve_metrics_by_hand():
    m = curve_metrics([1.0, 1.1, 1.05, 1.2])
    assert m.delta_pct == pytest.approx(20.0) and m.delta_max_pct == pytest.approx(20.0)
    increments = [0.1, -0.05, 0.15]
    mean, sd = sum(increments) / 3, (sum((d - 0.2 / 3) ** 2 for d in increments) / 3) ** 0.5
    assert m.volatility == pytest.approx(sd) and m.sharpe == pytest.approx(mean / sd)
    assert m.max_drawdown_pct == pytest.approx(100 * (1.05 - 1.1) / 1.1)
    flat = curve_metrics([2.0, 2.0, 2.0])
    assert flat.delta_pct == 0 and flat.sharpe is None and flat.max_drawdown_pct == 0
    assert curve_metrics([1.0]).delta_pct is None


def test_error_rate():
    assert error_rate(["done", "failed", "done", "running", "pending"]) == pytest.approx(1 / 3)
    assert error_rate(["running"]) is None
