"""Reading a run for the report: the evolution's own fitness and leaderboard, the ladder from the run's config, the
fitness known at each point of the sequence, and the scorecard's inputs taken from the events."""
from genesys.report.data import infer_rungs
from genesys.report.summary import design_requests, run_metrics
from tests.report.synthetic import HOSTILE, NEW


def test_the_leaderboard_is_the_evolutions_own(run_data):
    assert [e["name"] for e in run_data.leaderboard][:3] == ["graft-d", "gpt2-swap-a-insert-c", "gpt2-swap-a"]
    assert run_data.leaderboard[-1]["name"] == HOSTILE
    assert run_data.view.rungs == ["proxy", "cpu_xs", "cpu_s"] and run_data.view.points["cpu_xs"] == 2.0


def test_online_fitness_knows_only_what_was_finished_before_each_design(run_data):
    first = run_data.online_fitness(0)
    assert set(first) == {"gpt2", "retnet"}                      # before the first new design: the seeds only
    assert set(run_data.online_fitness(2)) == {"gpt2", "retnet", "gpt2-swap-a", "retnet-hparam-b"}
    assert run_data.online_fitness(len(NEW)) == run_data.fitness  # at the end: everything


def test_rungs_without_a_config_put_the_proxy_first_and_the_widest_next():
    class V:
        def __init__(self, rung, seed=0):
            self.rung, self.seed = rung, seed
    rows = [V("b"), V("a"), V("a"), V("proxy"), V("b", seed=1), V("a")]
    assert infer_rungs(rows) == ["proxy", "a", "b"]


def test_design_requests_come_from_the_events(run_data):
    requests = design_requests(run_data)
    assert len(requests) == len(NEW) + 1
    assert sum(r["valid"] for r in requests) == len(NEW)
    assert [r["attempts"] for r in requests if not r["valid"]] == [2]
    assert {r["designer"] for r in requests} == {"symbolic"}


def test_run_metrics_holds_both_curves_and_the_tables(run_data):
    m = run_metrics(run_data, top=3, every=2)
    assert [p["t"] for p in m["curve"]] == [0, 2, 4, 6]
    assert m["metrics"]["delta"] > 0 and m["metrics"]["max_drawdown"] == 0
    assert m["error_rate"] == {"designs": len(NEW), "errored": 2, "rate": 2 / len(NEW)}
    assert m["operators"]["swap"]["attempts"] == 3 and m["operators"]["swap"]["valid"] == 1
