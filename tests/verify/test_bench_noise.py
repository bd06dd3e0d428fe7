"""bench/noise.py's pure parts: the rung value of a record, the spread over seeds, the verify command."""
from __future__ import annotations

import importlib.util
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("bench_noise", REPO / "bench" / "noise.py")
noise = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(noise)


def test_rung_value_lm_is_val_loss_proxy_is_suite_mean():
    assert noise.rung_value({"scale": "cpu_xs", "val_loss": 5.2}) == 5.2
    table = {"a": {"accuracy": 1.0}, "b": {"accuracy": 0.5}, "c": {"accuracy": 0.0}}
    assert noise.rung_value({"scale": "proxy", "eval": {"proxy": table}}) == 0.5


def test_spread_is_max_minus_min_and_failures_stay_out():
    rows = [{"design": "d", "seed": s, "value": v, "wall_s": 10.0, "cpu_s": 8.0}
            for s, v in [(2, 5.77), (0, 5.18), (1, 5.26), (3, None)]]
    s = noise.summarise(rows)["d"]
    assert s["values"] == [5.18, 5.26, 5.77, None]
    assert abs(s["spread"] - 0.59) < 1e-9 and s["failed"] == 1 and abs(s["sd"] - 0.3201) < 1e-4
    assert noise.summarise(rows[:1])["d"]["spread"] is None   # one seed: no spread


def test_command_seeds_the_proxy_suite_and_the_lm_rung():
    proxy = noise.command("gpt2", "proxy", 2, "none", Path("/tmp/x"), ["eval.proxy.repeats=2"])
    assert "eval=proxy" in proxy and "eval.proxy.train.seed=2" in proxy and "design=seeds/gpt2" in proxy
    assert proxy[-1] == "eval.proxy.repeats=2" and not any(a.startswith("scale=") for a in proxy)
    lm = noise.command("tests/x.py", "cpu_xs", 1, "local", Path("/tmp/x"), [])
    assert {"scale=cpu_xs", "seed=1", "eval=local", "design=tests/x.py", "resume=false"} <= set(lm)


def test_a_kill_from_outside_is_retried_a_failure_of_the_design_is_not():
    assert noise.killed(-15, {})                        # SIGTERM'd child
    assert noise.killed(0, {})                          # Lightning caught the SIGTERM, exited 0, wrote no record
    assert not noise.killed(0, {"val_loss": 4.2})       # a finished run
    assert not noise.killed(1, {})                      # the design failed: a result, not noise of the box
    lm = noise.command("gpt2", "cpu_xs", 0, "none", Path("/tmp/x"), ["monitor.time_tolerance=5"])
    assert lm.index("monitor.time_tolerance=1000") < lm.index("monitor.time_tolerance=5")   # explicit one wins


def test_replicate_spread_is_over_the_means_of_consecutive_seed_groups():
    rows = [{"design": "d", "seed": s, "value": v, "wall_s": 1.0, "cpu_s": 1.0}
            for s, v in enumerate([3.9, 3.8, 3.7, 3.9, 3.85, None])]
    s = noise.summarise(rows, replicates=2)["d"]
    assert [round(m, 9) for m in s["replicate_means"]] == [3.85, 3.8]   # (0, 1), (2, 3); (4, 5) lacks a value
    assert abs(s["replicate_spread"] - 0.05) < 1e-9 and abs(s["spread"] - 0.2) < 1e-9
    assert noise.group_means([1.0, 2.0, 3.0], 2) == [1.5]  # an incomplete last group is left out
    assert "spread of the means" in noise.markdown(noise.summarise(rows, 2), "cpu_s", "val loss")
