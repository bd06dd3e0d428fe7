"""SIGKILL the whole evolution (orchestrator, workers, training children) mid-run, rerun the same command: it
finishes with the same population as an uninterrupted run of the same length — the same designs (names and
structural hashes), every verification done exactly once, nothing lost or duplicated. One designer and the w/o Exp
parent rule make the design sequence a function of the seed alone, so the two runs are comparable."""
from __future__ import annotations

import os
import signal
import time

import pytest

from genesys.evolution.store import Store
from tests.evolution.evolution_helpers import make_corpus, run_genesys, tiny_overrides

pytestmark = [pytest.mark.slow, pytest.mark.integration]
EXTRA = ("selection.wo_exp=true", "launcher.verifiers=1")


def population(run_dir):
    store = Store.open(run_dir)
    try:
        designs = sorted((d.name, d.struct_hash, tuple(d.parents)) for d in store.designs())
        done = [(v.design, v.rung, v.seed) for v in store.verifications(status="done")]
        others = [(v.design, v.rung, v.seed, v.status) for v in store.verifications() if v.status != "done"]
    finally:
        store.close()
    return designs, sorted(done), others


def _counts(run_dir):
    if not (run_dir / "evolution.db").exists():
        return 0, 0
    store = Store.open(run_dir)
    try:
        return len([d for d in store.designs() if not d.is_seed]), len(store.verifications(status="done"))
    finally:
        store.close()


def test_sigkill_then_rerun_gives_the_uninterrupted_population(tmp_path):
    corpus = make_corpus(tmp_path / "corpus")
    reference = run_genesys(tiny_overrides(tmp_path / "reference", corpus, 3, *EXTRA))
    out, _ = reference.communicate(timeout=1200)
    assert reference.returncode == 0, out[-4000:]

    run_dir = tmp_path / "run"
    overrides = tiny_overrides(run_dir, corpus, 3, *EXTRA)
    proc = run_genesys(overrides, start_new_session=True)
    deadline, killed = time.time() + 900, False
    while time.time() < deadline and proc.poll() is None:
        new, done = _counts(run_dir)
        if new >= 1 and done >= 3:
            os.killpg(proc.pid, signal.SIGKILL)
            killed = True
            break
        time.sleep(0.5)
    proc.communicate(timeout=60)
    assert killed, "the run ended before it could be killed"
    designs_then, done_then, _ = population(run_dir)
    time.sleep(2)   # the training children follow their worker (parent-death signal)

    rerun = run_genesys(overrides)
    out, _ = rerun.communicate(timeout=1200)
    assert rerun.returncode == 0, out[-4000:]
    assert "resuming" in out

    designs, done, others = population(run_dir)
    ref_designs, ref_done, _ = population(tmp_path / "reference")
    assert set(designs_then) <= set(designs) and set(done_then) <= set(done)    # nothing stored was lost
    assert designs == ref_designs                                               # the same tree
    assert done == ref_done and len(set(done)) == len(done)                     # each verification once
    assert not others, others


def test_sigterm_stops_gracefully_and_hands_work_back(tmp_path):
    """SIGTERM (kill, or SLURM's stop) takes Ctrl-C's path: workers hand back what they hold, the leaderboard is
    written, the run ends with stop reason "interrupted"; nothing is left running, and a rerun finishes the work."""
    run_dir = tmp_path / "run"
    overrides = tiny_overrides(run_dir, make_corpus(tmp_path / "corpus"), 2)
    proc = run_genesys(overrides)
    deadline = time.time() + 600
    while time.time() < deadline and proc.poll() is None:
        if (run_dir / "evolution.db").exists():
            store = Store.open(run_dir)
            running = store.verifications(status="running")
            store.close()
            if running:
                break
        time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0, out[-4000:]
    assert "stopped early (interrupted)" in out
    store = Store.open(run_dir)
    try:
        assert not store.verifications(status="running")
        assert not [v for v in store.verifications() if v.attempts]          # handing back is not a failure
        assert store.events(kind="run_end")[-1].payload["stop_reason"] == "interrupted"
    finally:
        store.close()
    assert (run_dir / "leaderboard.json").exists()
    rerun = run_genesys(overrides)
    out, _ = rerun.communicate(timeout=900)
    assert rerun.returncode == 0, out[-4000:]
    _, done, others = population(run_dir)
    assert not others and len(done) == len(set(done)) >= 4 * 2
