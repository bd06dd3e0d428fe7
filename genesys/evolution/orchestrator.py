"""The main job: register the seeds, start designer and verifier workers (submitit jobs), watch the store until
the stop conditions are met, and write the leaderboard. Everything needed to resume lives in the store, so rerunning
the same command on the same run folder picks up where it stopped: stored designs and finished verifications are
kept, a verification that was running when the run died is re-queued when its lease expires (or at once when this
orchestrator stopped it), and training resumes from its checkpoint.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import os
import socket
import time
from pathlib import Path
from typing import List, Optional

from genesys.evolution.launcher import JobWatch, start_workers
from genesys.evolution.live import LiveView
from genesys.evolution.settings import EvolutionSettings
from genesys.evolution.snapshot import leaderboard, records_of, take_snapshot
from genesys.evolution.stats import operator_stats, rung_noise
from genesys.evolution.tracking import EvolutionTracker, curve_point
from genesys.evolution.workers import (DESIGNERS_DONE_KEY, OWNER_KEY, STOP_KEY, budget_of, stop_on_sigterm,
                                      verification_job)
from genesys.gau import compose, load_design
from genesys.gau.hashing import structural_hash
from genesys.paths import resolve_design

log = logging.getLogger(__name__)
GRACE_S = 60.0     # after a stop request, how long workers get to hand back their work before they are killed


def register_seeds(store, seeds: List[str]) -> List[str]:
    """Store the seed designs once (idempotent: a rerun finds them by name)."""
    names = []
    for seed in seeds:
        path = resolve_design(seed)
        tree = load_design(str(path))
        names.append(tree.name)
        if store.design(tree.name) is None:
            store.add_design(tree.name, tree.to_dict(), compose(tree), structural_hash(tree), [], "seed", is_seed=True,
                             meta={"path": str(path)})
    return names


def preflight(settings: EvolutionSettings) -> None:
    """Compose every rung's verification config once, here: a bad override fails now, with Hydra's message,
    instead of in every worker."""
    for rung in settings.rungs:
        verification_job(settings, None, rung, 0).compose()


_watch = JobWatch()


def _finished(job) -> bool:
    return _watch.finished(job)


def _wait(jobs, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if all(_finished(j) for _, j in jobs):
            return True
        time.sleep(0.5)
    return False


def _worker_errors(jobs) -> List[str]:
    errors = []
    for kind, job in jobs:
        if _finished(job):
            if not job.paths.result_pickle.exists():     # cancelled or killed: exception() would wait forever
                errors.append(f"{kind} job {job.job_id}: ended without a result (cancelled or killed)")
                continue
            try:
                exc = job.exception()
            except Exception as e:   # noqa: BLE001 (submitit raises its own types for vanished jobs)
                exc = e
            if exc is not None:
                errors.append(f"{kind} job {job.job_id}: {str(exc).strip().splitlines()[-1] if str(exc) else exc!r}")
    return errors


def _write_json(path: Path, data) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str))
    tmp.replace(path)


def run_summary(store, snap, settings: EvolutionSettings) -> dict:
    records = records_of(snap.verifications)
    return {"rungs": settings.rungs, "budget": budget_of(snap, settings),
            "noise": rung_noise(records, records),
            "operators": operator_stats([e.payload for e in store.events(kind="attempt")],
                                        [{"name": d.name, "operator": d.operator, "parents": d.parents}
                                         for d in snap.designs], snap.fitness),
            "designs": len(snap.designs), "new_designs": len(snap.new_designs)}


def write_leaderboard(store, settings: EvolutionSettings, tracker: Optional[EvolutionTracker] = None) -> Path:
    """leaderboard.json (one entry per design) and summary.json (noise per rung, operators, budget); the noise is
    also kept in the store (state "noise"); the W&B run gets the last curve point and the leaderboard table."""
    snap = take_snapshot(store, settings)
    path = settings.run_dir / "leaderboard.json"
    entries = leaderboard(snap, settings)
    _write_json(path, entries)
    summary = run_summary(store, snap, settings)
    store.set_state("noise", summary["noise"])
    _write_json(settings.run_dir / "summary.json", summary)
    if tracker is not None:
        tracker.log(lambda: curve_point(snap, summary["budget"]), force=True)
        tracker.finish(entries, summary)
    return path


def _curve_now(store, settings: EvolutionSettings) -> dict:
    snap = take_snapshot(store, settings)
    return curve_point(snap, budget_of(snap, settings))


class OwnerBeat:
    """The orchestrator's mark in the store (its token, when it last looked): workers on other nodes stop when it
    goes stale, and older workers stop when a rerun's orchestrator replaces it. Written at most every `every_s`."""

    def __init__(self, store, token: str, every_s: float = 5.0):
        self.store, self.token, self.every_s, self.last = store, token, every_s, 0.0

    def __call__(self) -> None:
        if time.monotonic() - self.last >= self.every_s:
            self.store.set_state(OWNER_KEY, {"token": self.token, "seen": time.time()})
            self.last = time.monotonic()


def run_evolution(settings: EvolutionSettings, console=None) -> Path:
    """Run (or resume) the evolution in settings.run_dir; returns the leaderboard's path."""
    from genesys.evolution.store import Store
    preflight(settings)
    settings.run_dir.mkdir(parents=True, exist_ok=True)
    local = (settings.launcher or {}).get("kind", "local") != "slurm"
    if not settings.run_token:
        settings = dataclasses.replace(settings, owner_pid=os.getpid() if local else None,
                                       run_token=f"{socket.gethostname()}-{os.getpid()}-{int(time.time())}")
    store = Store.open(settings.store_url)
    register_seeds(store, settings.seeds)
    beat = OwnerBeat(store, settings.run_token)
    beat()                                  # from now on, workers of an earlier orchestrator of this run stop
    if local:                               # local workers died with the previous run: their work goes back now
        requeued = store.release_running(reason="the previous run of this folder stopped")
    else:                                   # SLURM workers may outlive it: they hand back, or their leases expire
        requeued = store.requeue_expired()
    if requeued and console is not None:
        console.print(f"resuming: {requeued} interrupted verification(s) back in the queue")
    store.set_state(STOP_KEY, None)
    store.set_state(DESIGNERS_DONE_KEY, settings.designers == 0)
    store.event("run_start", {"designers": settings.designers, "verifiers": settings.verifiers})
    jobs = start_workers(settings)
    tracker = EvolutionTracker(settings.wandb, settings.run_dir)
    view = LiveView(store, settings, console)
    stop_on_sigterm()                       # `kill` and SLURM's stop: the same graceful path as Ctrl-C
    start, stop_reason = time.monotonic(), None
    try:
        with view:
            while True:
                beat()
                view.refresh(jobs)
                tracker.log(lambda: _curve_now(store, settings))
                designers = [j for k, j in jobs if k == "designer"]
                if designers and all(_finished(j) for j in designers) and not store.get_state(DESIGNERS_DONE_KEY):
                    store.set_state(DESIGNERS_DONE_KEY, True)
                if all(_finished(j) for _, j in jobs):
                    break
                if settings.stop_wall_time_s and time.monotonic() - start > settings.stop_wall_time_s and not stop_reason:
                    stop_reason = "wall time"
                    store.set_state(STOP_KEY, {"reason": stop_reason})
                    if not _wait(jobs, GRACE_S):
                        for _, j in jobs:
                            j.cancel()
                time.sleep(settings.poll_s)
    except KeyboardInterrupt:
        stop_reason = "interrupted"
        store.set_state(STOP_KEY, {"reason": stop_reason})
        if console is not None:
            console.print("[yellow]stopping: workers hand back their work (Ctrl-C again to kill them)...[/yellow]")
        try:
            if not _wait(jobs, GRACE_S):
                raise KeyboardInterrupt
        except KeyboardInterrupt:
            for _, j in jobs:
                j.cancel()
            _wait(jobs, 15)
    finally:
        errors = _worker_errors(jobs)
        store.event("run_end", {"stop_reason": stop_reason or "done", "worker_errors": errors})
        path = write_leaderboard(store, settings, tracker)
        if console is not None:
            view.final(errors, stop_reason)
        store.close()
    return path
