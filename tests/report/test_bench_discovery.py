"""bench/discovery.py's pure parts: the noise bars from the seeds run, and the comparison against them."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("bench_discovery", REPO / "bench" / "discovery.py")
discovery = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(discovery)


def test_noise_bars_are_the_largest_seed_spreads_at_the_lm_rung(tmp_path):
    noise = {"cpu_xs": {"gpt2": {"spread": 0.01, "fitness_spread": 0.03}, "mamba2": {"spread": 0.06,
                                                                                   "fitness_spread": 0.01}},
             "proxy": {"gpt2": {"spread": 0.5, "fitness_spread": 0.5}}}
    (tmp_path / "summary.json").write_text(json.dumps({"noise": noise}))
    assert discovery.noise_bars(tmp_path) == {"loss": 0.06, "fitness": 0.03}
    (tmp_path / "summary.json").write_text(json.dumps({"noise": {}}))
    assert discovery.noise_bars(tmp_path) == {"loss": None, "fitness": None}


def _run(fit_gain, loss_gain, delta):
    return {"metrics": {"delta": delta, "delta_max": delta, "sharpe": None, "volatility": None, "max_drawdown": 0.0},
            "best_seed_fitness": 0.5, "best_new_fitness": 0.5 + fit_gain, "best_seed_loss": 4.0,
            "best_new_loss": 4.0 + loss_gain, "wall_s": 600.0}


def test_a_run_beats_the_best_seed_only_beyond_the_noise():
    results = {"symbolic": [_run(0.04, -0.01, 20.0), _run(0.02, -0.08, 10.0)], "random": [_run(-0.1, 0.2, 5.0)]}
    rows = discovery.table(results, {"loss": 0.06, "fitness": 0.03}).splitlines()
    symbolic = next(r for r in rows if r.startswith("| symbolic"))
    assert "| 1 / 1 of 2 |" in symbolic and "15.000 ± 7.071" in symbolic   # fitness: +0.04 > 0.03; loss: -0.08
    assert "| 0 / 0 of 1 |" in next(r for r in rows if r.startswith("| random"))
    assert "| 0 / 0 of 2 |" in discovery.table(results, {"loss": None, "fitness": None})
