"""Run statistics: a rung's noise from repeated seeds, and each operator's yield, on hand-made rows."""
from __future__ import annotations

import pytest

from genesys.evolution.stats import headline, operator_stats, rung_noise


def lm(design, seed, val, unigram=6.0):
    return {"design": design, "scale": "cpu_xs", "val_loss": val, "unigram_val_loss": unigram, "config": {"seed": seed}}


def proxy(design, seed, a, b):
    table = {"t1": {"metric": "acc", "acc": a, "random_baseline": 0.1},
             "t2": {"metric": "acc", "acc": b, "random_baseline": 0.1}}
    return {"design": design, "scale": "proxy", "val_loss": None, "eval": {"proxy": table}, "config": {"seed": seed}}


def test_headline_is_val_loss_or_the_proxy_mean():
    assert headline(lm("a", 0, 5.0)) == {"metric": "val_loss", "value": 5.0}
    assert headline(proxy("a", 0, 0.5, 0.7))["value"] == pytest.approx(0.6)
    assert headline({"val_loss": None, "eval": None}) is None


def test_rung_noise_only_for_repeated_designs():
    records = [lm("gpt2", 1, 5.26), lm("gpt2", 0, 5.18), lm("gpt2", 2, 5.77), lm("mamba2", 0, 4.6),
               proxy("gpt2", 0, 1.0, 0.9), proxy("gpt2", 1, 0.64, 0.6)]
    noise = rung_noise(records, records)
    assert set(noise) == {"cpu_xs", "proxy"} and set(noise["cpu_xs"]) == {"gpt2"}       # mamba2 ran once
    g = noise["cpu_xs"]["gpt2"]
    assert g["seeds"] == [0, 1, 2] and g["values"] == [5.18, 5.26, 5.77] and g["spread"] == pytest.approx(0.59)
    assert g["fitness_spread"] == pytest.approx(0.59 / 6)                 # val-loss row: (6 - v) / 6
    p = noise["proxy"]["gpt2"]
    assert p["metric"] == "proxy_mean" and p["spread"] == pytest.approx(0.95 - 0.62)


def test_operator_stats_count_attempts_designs_and_gain():
    attempts = [{"operator": "swap", "valid": True}, {"operator": "swap", "valid": False},
                {"operator": "swap", "valid": True}, {"operator": "graft", "valid": False}]
    designs = [{"name": "gpt2", "operator": None, "parents": []},
               {"name": "c1", "operator": "swap", "parents": ["gpt2"]},
               {"name": "c2", "operator": "swap", "parents": ["gpt2", "x"]}]
    stats = operator_stats(attempts, designs, {"gpt2": 0.5, "c1": 0.6, "c2": 0.3})
    assert stats["swap"] == {"attempts": 3, "valid": 2, "valid_share": pytest.approx(2 / 3), "designs": 2,
                             "mean_fitness": pytest.approx(0.45), "mean_gain": pytest.approx(-0.05)}
    assert stats["graft"]["valid_share"] == 0 and stats["graft"]["designs"] == 0 and stats["graft"]["mean_fitness"] is None
