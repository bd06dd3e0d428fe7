"""Each ablation preset runs the whole loop (at the tiny size of the main-job test) and does what it says:
base keeps every parent a seed, wo_exp and w_mem and wo_lit finish with a scored leaderboard."""
from __future__ import annotations

import json

import pytest

from genesys.evolution.store import Store
from tests.evolution.evolution_helpers import make_corpus, run_genesys, tiny_overrides

pytestmark = [pytest.mark.slow, pytest.mark.integration]


@pytest.mark.parametrize("experiment", ["wo_exp", "wo_lit", "base", "w_mem"])
def test_ablation_runs(experiment, tmp_path):
    run_dir = tmp_path / "run"
    overrides = [f"+experiment={experiment}"] + tiny_overrides(run_dir, make_corpus(tmp_path / "corpus"), 2,
                                                              "noise.designs=[]")
    proc = run_genesys(overrides)
    out, _ = proc.communicate(timeout=1200)
    assert proc.returncode == 0, out[-4000:]
    board = json.loads((run_dir / "leaderboard.json").read_text())
    new = [e for e in board if not e["is_seed"]]
    assert len(new) >= 2 and all(e["fitness"] is not None for e in board), board
    store = Store.open(run_dir)
    try:
        seeds = {d.name for d in store.designs() if d.is_seed}
        if experiment == "base":
            assert all(set(e["parents"]) <= seeds for e in new)       # nothing accumulated: parents are seeds
        if experiment == "w_mem":
            assert store.events(kind="attempt")
    finally:
        store.close()
