"""Faults at a verifier worker, each against a real store and real training children: the worker SIGKILLed
mid-training (its lease expires, the work is re-queued and resumes from the checkpoint), a design that crashes the
trainer three times (failed, the worker goes on), and a full or read-only run folder (a clear error, nothing
blamed on the design, the store intact)."""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
import torch

from genesys.evolution.store import Store
from genesys.paths import REPO_ROOT
from tests.evolution.evolution_helpers import make_corpus
from genesys.evolution.orchestrator import register_seeds
from tests.evolution.worker_helpers import (RUNG, broken_copy, start_worker, store_with, worker_log,
                                            worker_settings)

GPT2 = REPO_ROOT / "seeds" / "gpt2"
SECRET = "sk-do-not-leak-7f3a9c"


def _ckpt_step(path: Path):
    try:
        return int(torch.load(path, map_location="cpu", weights_only=False)["global_step"])
    except Exception:   # being written
        return None


def _children_of(run_dir: Path) -> list:
    """Training children of a worker: processes whose command line names the run folder (a fresh interpreter) or
    whose output goes to a log in it (a child forked from the preloaded parent keeps the parent's command line)."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if str(run_dir) in (proc / "cmdline").read_bytes().decode(errors="replace") or \
                        os.readlink(proc / "fd" / "1").startswith(str(run_dir)):
                    found.append(int(proc.name))
            except OSError:
                continue
    return found


def _wait(proc: subprocess.Popen, timeout: float, folder: Path, index: int) -> int:
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail(f"worker {index} did not end within {timeout} s:\n{worker_log(folder, index)[-3000:]}")


@pytest.mark.slow
def test_sigkilled_worker_is_requeued_and_resumes_from_its_checkpoint(tmp_path):
    run_dir, logs = tmp_path / "run", tmp_path / "logs"
    settings = worker_settings(run_dir, f"sqlite:///{tmp_path / 'store.db'}", make_corpus(tmp_path / "corpus"),
                               "scale.token_multiplier=8", "train.ckpt_every=5")
    with Store.open(settings.store_url) as store:
        store_with(store, [GPT2])
    first = start_worker(settings, 0, logs)
    ckpt = run_dir / "verify" / "gpt2" / f"{RUNG}-s0" / "checkpoints" / "last.ckpt"
    deadline, killed_at = time.time() + 400, None
    while time.time() < deadline and first.poll() is None:
        if ckpt.exists() and (_ckpt_step(ckpt) or 0) >= 10:
            first.send_signal(signal.SIGKILL)       # the worker only: its training child must follow it
            first.wait()
            killed_at = _ckpt_step(ckpt)
            break
        time.sleep(0.2)
    assert killed_at, f"no checkpoint before the worker ended:\n{worker_log(logs, 0)[-3000:]}"
    time.sleep(1)
    assert not _children_of(run_dir), "the training child outlived its killed worker"
    with Store.open(settings.store_url) as store:
        (held,) = store.verifications()
        assert held.status == "running" and held.worker.startswith("verifier-0")

    second = start_worker(settings, 1, logs)
    assert _wait(second, 600, logs, 1) == 0, worker_log(logs, 1)[-3000:]
    with Store.open(settings.store_url) as store:
        (done,) = store.verifications()
        expired = [e.payload for e in store.events(kind="verification_failed")]
    assert done.status == "done" and done.worker.startswith("verifier-1")
    assert done.attempts == 1 and expired[0]["error"] == "lease expired"       # re-queued by the lease, once
    assert done.record["resumed_from_step"] == killed_at >= 10                  # from the checkpoint, not step 0
    assert done.record["steps"] > killed_at


def _wait_for(check, timeout: float, what: str, folder: Path, index: int = 0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    pytest.fail(f"{what} within {timeout} s:\n{worker_log(folder, index)[-3000:]}")


def _gpt2_worker(tmp_path: Path, **fields):
    """A verifier worker started on a store holding gpt2 at a rung long enough to be caught mid-training."""
    run_dir, logs = tmp_path / "run", tmp_path / "logs"
    settings = worker_settings(run_dir, f"sqlite:///{tmp_path / 'store.db'}", make_corpus(tmp_path / "corpus"),
                               "scale.token_multiplier=8", **fields)
    with Store.open(settings.store_url) as store:
        store_with(store, [GPT2])
    return run_dir, logs, settings, start_worker(settings, 0, logs)


def _zygotes_of(worker_pid: int) -> list:
    """The worker's preloaded verification parents (genesys.verify.zygote)."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                stat = (proc / "stat").read_text()
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                if ppid == worker_pid and b"genesys.verify.zygote" in (proc / "cmdline").read_bytes():
                    found.append(int(proc.name))
            except (OSError, IndexError, ValueError):
                continue
    return found


@pytest.mark.slow
def test_a_killed_preloaded_parent_hands_the_claim_back_and_a_new_one_finishes_it(tmp_path):
    """The zygote the training child was forked from dies mid-training (the child dies with it): that is not the
    design's failure, so the claim goes back with no attempt counted, the worker starts a new zygote and the same
    verification completes."""
    run_dir, logs, settings, worker = _gpt2_worker(tmp_path, max_attempts=1)
    _wait_for(lambda: _children_of(run_dir), 120, "no training child started", logs)
    (zygote,) = _zygotes_of(worker.pid)
    os.kill(zygote, signal.SIGKILL)
    assert _wait(worker, 600, logs, 0) == 0, worker_log(logs, 0)[-3000:]
    with Store.open(settings.store_url) as store:
        (v,) = store.verifications()
        released = store.events(kind="verification_released")
        failures = store.events(kind="verification_failed")
    assert v.status == "done" and len(released) == 1 and not failures    # max_attempts=1: one counted failure would end it
    assert "lost its preloaded parent" in worker_log(logs, 0)


@pytest.mark.slow
def test_sigterm_hands_the_claim_back_at_once_and_ends_the_worker(tmp_path):
    """scancel, preemption and SLURM's time limit send SIGTERM to every process of the job, and submitit only
    logs it: the worker must hand its claim back at once (pending, no attempt counted: not the design's fault)
    and end "interrupted" with its training child gone, not go on until the SIGKILL and leave the claim to its
    lease (600 s here)."""
    run_dir, logs, settings, worker = _gpt2_worker(tmp_path, lease_s=600.0)
    children = _wait_for(lambda: _children_of(run_dir), 120, "no training child started", logs)
    for pid in [*children, worker.pid]:             # the child first: the worker must not blame the design
        os.kill(pid, signal.SIGTERM)
    assert _wait(worker, 60, logs, 0) != 0           # interrupted, not finished
    time.sleep(1)
    assert not _children_of(run_dir), "the training child outlived its stopped worker"
    with Store.open(settings.store_url) as store:
        (v,) = store.verifications()
        released = [e.payload for e in store.events(kind="verification_released")]
        (session,) = store.sessions(kind="verifier")
        failures = store.events(kind="verification_failed")
    assert v.status == "pending" and v.attempts == 0 and v.error is None and v.worker is None
    assert [r["worker"] for r in released] == ["verifier-0-t"] and not failures
    assert session.status == "interrupted"


@pytest.mark.slow
def test_sigterm_mid_design_closes_the_ticket_for_the_next_designer(tmp_path):
    """A designer stopped mid-design (its LLM call hanging, say) ends its ticket as abandoned: the run's target
    slot is free again and the next designer takes the same ticket (so the same seed) instead of waiting for a
    design that will never come."""
    logs = tmp_path / "logs"
    settings = worker_settings(tmp_path / "run", f"sqlite:///{tmp_path / 'store.db'}", tmp_path, designers=1,
                               stop_designs=1, designer={"_target_": "tests.evolution.worker_helpers.StuckDesigner"})
    with Store.open(settings.store_url) as store:
        register_seeds(store, [str(GPT2)])
        run_start = store.event("run_start", {})
    designer = start_worker(settings, 0, logs, kind="designer")
    with Store.open(settings.store_url) as store:
        _wait_for(lambda: store.events(kind="design_start"), 120, "no design started", logs)
        designer.send_signal(signal.SIGTERM)
        assert _wait(designer, 60, logs, 0) != 0
        abandoned = [e.payload for e in store.events(kind="design_abandoned")]
        (session,) = store.sessions(kind="designer")
        assert abandoned == [{"ticket": 0}] and session.status == "interrupted"
        assert store.start_design(1, run_start, {"worker": "next"}) == 0


@pytest.mark.slow
def test_design_the_trainer_three_times_is_failed_and_the_worker_goes_on(tmp_path, monkeypatch):
    """Also: the training child (LLM-written code) never sees the caller's secrets, which appear nowhere in the
    run folder or the store either."""
    monkeypatch.setenv("GENESYS_TEST_API_KEY", SECRET)
    run_dir, logs = tmp_path / "run", tmp_path / "logs"
    broken = broken_copy(GPT2, tmp_path / "broken", "broken",
                         'raise RuntimeError("deliberate crash; SECRET " + repr(os.environ.get("GENESYS_TEST_API_KEY")))')
    settings = worker_settings(run_dir, f"sqlite:///{tmp_path / 'store.db'}", make_corpus(tmp_path / "corpus"),
                               max_attempts=3)
    with Store.open(settings.store_url) as store:
        store_with(store, [broken, GPT2])
    worker = start_worker(settings, 0, logs)
    assert _wait(worker, 900, logs, 0) == 0, worker_log(logs, 0)[-3000:]
    with Store.open(settings.store_url) as store:
        rows = {v.design: v for v in store.verifications()}
        failed = store.design("broken")
        dumps = [repr(x) for x in (store.designs(), store.verifications(), store.events(), store.sessions())]
    assert failed.status == "failed" and "3 failed verification attempts" in failed.status_reason
    assert rows["broken"].status == "failed" and rows["broken"].attempts == 3
    assert rows["gpt2"].status == "done"                                     # the loop went on
    crash_log = (run_dir / "verify" / "broken" / f"{RUNG}-s0" / "verify.log").read_text()
    assert "deliberate crash; SECRET None" in crash_log                       # the child had no secret to see
    leaked = [p for p in run_dir.rglob("*") if p.is_file() and SECRET.encode() in p.read_bytes()]
    assert not leaked and not any(SECRET in d for d in dumps)


def _tmpfs(path: Path, size: str) -> None:
    path.mkdir(parents=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], check=True)


def _assert_store_intact(store_file: Path, design: str) -> None:
    with sqlite3.connect(store_file) as con:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    with Store.open(store_file) as store:
        (v,) = store.verifications()
        assert store.design(design).status == "valid"
    assert v.status == "pending" and v.attempts == 0 and v.error is None   # handed back, not blamed on the design


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root")


@needs_root
def test_read_only_run_folder_is_a_clear_error_and_the_store_is_intact(tmp_path):
    run_dir, logs, store_file = tmp_path / "run", tmp_path / "logs", tmp_path / "store.db"
    _tmpfs(run_dir, "8m")
    try:
        subprocess.run(["mount", "-o", "remount,ro", str(run_dir)], check=True)
        settings = worker_settings(run_dir, f"sqlite:///{store_file}", make_corpus(tmp_path / "corpus"))
        with Store.open(store_file) as store:
            store_with(store, [GPT2])
        worker = start_worker(settings, 0, logs)
        assert _wait(worker, 120, logs, 0) != 0
    finally:
        subprocess.run(["umount", "-l", str(run_dir)])
    out = worker_log(logs, 0)
    assert f"RunFolderError: run folder {run_dir}" in out and "Read-only file system" in out, out[-3000:]
    _assert_store_intact(store_file, "gpt2")


def _fill(folder: Path) -> None:
    """Write into ``folder`` until its file system is full."""
    with open(folder / "filler", "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass


@needs_root
@pytest.mark.slow
def test_disk_full_mid_training_is_a_clear_error_and_the_store_is_intact(tmp_path):
    """The run folder on a small tmpfs that something else fills while the training runs. (The store is elsewhere,
    as on a cluster whose shared run folder fills up while the database lives on its own server.)"""
    run_dir, logs, store_file = tmp_path / "run", tmp_path / "logs", tmp_path / "store.db"
    _tmpfs(run_dir, "32m")
    try:
        settings = worker_settings(run_dir, f"sqlite:///{store_file}", make_corpus(tmp_path / "corpus"),
                                   "scale.token_multiplier=8", "train.ckpt_every=2", min_free_mb=1.0)
        with Store.open(store_file) as store:
            store_with(store, [GPT2])
        worker = start_worker(settings, 0, logs)
        ckpt = run_dir / "verify" / "gpt2" / f"{RUNG}-s0" / "checkpoints" / "last.ckpt"
        deadline = time.time() + 400
        while time.time() < deadline and worker.poll() is None and not ckpt.exists():
            time.sleep(0.2)
        assert ckpt.exists(), f"no checkpoint before the worker ended:\n{worker_log(logs, 0)[-3000:]}"
        _fill(run_dir)
        assert _wait(worker, 600, logs, 0) != 0
    finally:
        subprocess.run(["umount", "-l", str(run_dir)])
    out = worker_log(logs, 0)
    assert f"RunFolderError: run folder {run_dir}" in out, out[-3000:]
    assert "MiB free" in out or "No space left on device" in out, out[-3000:]
    _assert_store_intact(store_file, "gpt2")
