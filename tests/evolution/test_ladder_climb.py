"""`+experiment=night`'s shape at a tiny size: the budget climbs the whole CPU ladder (proxy -> cpu_xs -> cpu_s ->
cpu_m) as the rungs below finish work, every rung trains each design with the night's training seeds
(`ladder.replicates`), and the leaderboard and the budget count a design once per rung. The main-job test covers the
two lower rungs; this one the climb."""
from __future__ import annotations

import json
from collections import defaultdict

import pytest

from genesys.config import compose_config
from genesys.evolution.store import Store
from tests.evolution.evolution_helpers import make_corpus, run_genesys, tiny_overrides

pytestmark = pytest.mark.integration

# 3 designs (2 seeds + 1 new): proxy and cpu_xs verify all 3, cpu_s opens one verification per cpu_xs design done
# (ratio 1.0, at most 2), cpu_m one per two cpu_s designs done (ratio 0.5, at most 1)
BUDGET = "{proxy:3,cpu_xs:3,cpu_s:2,cpu_m:1}"
RELEASE = ["ladder.budget.release.cpu_s=1.0", "ladder.budget.release.cpu_m=0.5"]
RUNGS = ("proxy", "cpu_xs", "cpu_s", "cpu_m")


@pytest.fixture(scope="module")
def climbed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("climb")
    overrides = tiny_overrides(tmp / "run", make_corpus(tmp / "corpus"), 1, *RELEASE, "noise.designs=[]", budget=BUDGET)
    proc = run_genesys(["+experiment=night", *overrides])
    out, _ = proc.communicate(timeout=900)
    assert proc.returncode == 0, out[-6000:]
    replicates = compose_config("config", ["+experiment=night"]).ladder.replicates
    assert min(replicates[r] for r in RUNGS[1:]) >= 2
    return tmp / "run", out, replicates


def test_the_budget_climbs_to_the_top_rung_through_the_rungs_below(climbed):
    run_dir, out, replicates = climbed
    store = Store.open(run_dir)
    try:
        seeds_done = defaultdict(set)                  # (design, rung) -> training seeds verified
        for v in store.verifications(status="done"):
            assert v.record and v.record["stop_reason"] == "completed", v.record
            seeds_done[(v.design, v.rung)].add(v.seed)
        assert not store.verifications(status="failed")
    finally:
        store.close()
    at = {rung: {d for (d, r) in seeds_done if r == rung} for rung in RUNGS}
    assert len(at["proxy"]) == len(at["cpu_xs"]) == 3, out[-4000:]
    assert len(at["cpu_s"]) == 2 and len(at["cpu_m"]) == 1, seeds_done
    assert at["cpu_m"] <= at["cpu_s"] <= at["cpu_xs"]  # a design climbs one rung at a time
    for rung, designs in at.items():                  # every design at every rung: the night's seeds 0..k-1
        assert all(seeds_done[(d, rung)] == set(range(replicates[rung])) for d in designs), (rung, seeds_done)


def test_the_leaderboard_and_budget_count_each_design_once_per_rung(climbed):
    run_dir, _, replicates = climbed
    board = {e["name"]: e for e in json.loads((run_dir / "leaderboard.json").read_text())}
    top = [e for e in board.values() if "cpu_m" in e["rungs"]]
    assert len(top) == 1 and top[0]["rungs"] == list(RUNGS)
    assert top[0]["confidence"] == 2 + 1 + 2 + 3 + 4                # proposed, implemented, points of every rung
    assert set(top[0]["params"]) == set(RUNGS)
    assert top[0]["stop_reasons"]["cpu_m"] == ["completed"] * replicates["cpu_m"]   # every seed's record
    assert sum("cpu_s" in e["rungs"] for e in board.values()) == 2
    assert all(e["fitness"] is not None for e in board.values())
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["budget"]["completed"] == summary["budget"]["claimed"] == {"proxy": 3, "cpu_xs": 3, "cpu_s": 2,
                                                                              "cpu_m": 1}
    for rung in RUNGS:        # no noise repeats: the replicates give every rung's noise, one entry per design there
        entries = summary["noise"][rung]
        assert sum(rung in e["rungs"] for e in board.values()) == len(entries)
        assert all(e["seeds"] == list(range(replicates[rung])) and e["spread"] is not None for e in entries.values())
