"""Leaderboard entries: best fitness first, unmeasured designs last, per-rung params and stop reasons."""
import json

from genesys.evolution.leaderboard import leaderboard_entries
from genesys.evolution.population import Candidate


def test_entries_sorted_and_complete():
    designs = [Candidate("gpt2", is_seed=True, verified=("proxy", "cpu_xs")),
               Candidate("child", parents=("gpt2",), mode="mutation", verified=("cpu_xs", "proxy")),
               Candidate("fresh", parents=("gpt2", "child"), mode="crossover"),
               Candidate("broken", parents=("gpt2",), mode="mutation", failed=True)]
    records = [
        {"design": "child", "scale": "cpu_xs", "stop_reason": "completed", "params": {"total": 2000}},
        {"design": "child", "scale": "cpu_xs", "stop_reason": "completed", "params": {"total": 2000}},
        {"design": "child", "scale": "proxy", "stop_reason": "completed", "params": {"total": None}},
        {"design": "gpt2", "scale": "proxy", "stop_reason": "completed", "params": {"total": None}},
        {"design": "broken", "scale": "proxy", "stop_reason": "nan_loss"},
    ]
    entries = leaderboard_entries(designs, records, {"gpt2": 0.3, "child": 0.5}, {"gpt2": 5, "child": 5, "fresh": 2},
                                  rungs=["proxy", "cpu_xs"])
    assert [e["name"] for e in entries] == ["child", "gpt2", "broken", "fresh"]   # unmeasured last, by name
    assert [e["rank"] for e in entries] == [1, 2, 3, 4]
    child = entries[0]
    assert child["rungs"] == ["proxy", "cpu_xs"] and list(child["params"]) == ["proxy", "cpu_xs"]
    assert child["stop_reasons"] == {"proxy": ["completed"], "cpu_xs": ["completed", "completed"]}
    assert (child["parents"], child["mode"], child["fitness"], child["confidence"]) == (["gpt2"], "mutation", 0.5, 5)
    assert entries[1]["mode"] == "seed" and entries[1]["is_seed"]
    broken = entries[2]
    assert broken["failed"] and broken["fitness"] is None and broken["stop_reasons"] == {"proxy": ["nan_loss"]}
    assert broken["params"] == {}                     # not measured: absent, not a filler
    assert json.loads(json.dumps(entries)) == entries
