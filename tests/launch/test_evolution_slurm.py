"""The evolution on a real (single-node) SLURM cluster with its store on PostgreSQL: verifier workers run as a SLURM
job array, every verification records the job that ran it, and a worker job cancelled mid-verification loses
nothing (it hands its work back at once, and another worker finishes it)."""
from __future__ import annotations

import os
import subprocess
import time

import pytest

from genesys.evolution.store import Store
from tests.evolution.evolution_helpers import make_corpus, run_genesys, tiny_overrides

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SLURM = ["launcher=slurm", "store=postgres", "launcher.designers=1", "launcher.verifiers=2", "launcher.poll_s=1",
         "launcher.owner_timeout_s=120", "launcher.slurm.partition=debug", "launcher.slurm.gpus_per_node=0",
         "launcher.slurm.cpus_per_task=1", "launcher.slurm.mem=3GB", "launcher.slurm.time=30",
         "verify.lease_s=20", "verify.heartbeat_s=4"]


def _running_job(url: str, run_dir, deadline_s: float = 600):
    """Wait for a verification that a SLURM job is running and whose training child has started (its log
    exists); (design, rung, seed, job id, worker)."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        store = Store.open(url)
        try:
            running = [v for v in store.verifications(status="running") if v.slurm_job_id
                       and (run_dir / "verify" / v.design / f"{v.rung}-s{v.seed}" / "verify.log").exists()]
        finally:
            store.close()
        if running:
            v = running[0]
            return v.design, v.rung, v.seed, v.slurm_job_id, v.worker
        time.sleep(1)
    raise AssertionError("no verification ran as a SLURM job in time")


def test_verifications_run_as_slurm_jobs_and_survive_scancel(slurm_cluster, postgres_url, tmp_path):
    run_dir = tmp_path / "run"
    overrides = [o.replace("compression=60", "compression=400")   # a proxy run long enough to cancel mid-way
                 for o in tiny_overrides(run_dir, make_corpus(tmp_path / "corpus"), 1, *SLURM)]
    env = {**os.environ, "GENESYS_STORE_URL": postgres_url}
    proc = run_genesys(overrides, env=env)
    try:
        design, rung, seed, job_id, worker = _running_job(postgres_url, run_dir)
        subprocess.run(["scancel", job_id], check=True, timeout=30)
        out, _ = proc.communicate(timeout=1500)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out[-6000:]
    store = Store.open(postgres_url)
    try:
        done = store.verifications(status="done")
        assert done and not store.verifications(status="running") and not store.verifications(status="pending")
        assert all(v.slurm_job_id and v.slurm_job_id.split("_")[0].isdigit() for v in done)
        assert len({v.slurm_job_id for v in done}) >= 1
        cancelled = [v for v in done if (v.design, v.rung, v.seed) == (design, rung, seed)]
        assert cancelled and cancelled[0].slurm_job_id != job_id, "the cancelled job's work was finished by another"
        released = [e.payload for e in store.events(kind="verification_released")]
        assert {"design": design, "rung": rung, "seed": seed, "worker": worker} in released   # handed back at once
        assert cancelled[0].attempts == 0                 # not counted against the design
        new = [d for d in store.designs() if not d.is_seed]
        assert len(new) == 1
    finally:
        store.close()
    assert (run_dir / "leaderboard.json").exists()
    assert list((run_dir / "workers").rglob("*_submission.sh")), "workers were submitted through sbatch"
