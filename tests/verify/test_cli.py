"""The Hydra app end to end in real subprocesses: resume after a kill, the W&B offline run and CSV log,
and (slow) a multirun sweep through the submitit local launcher."""
from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from verify_helpers import TINY_SCALE, data_overrides

from genesys.paths import REPO_ROOT


def _cmd(*overrides):
    return [sys.executable, "-m", "genesys.verify", *overrides]


def _env(tmp_path):
    return {**os.environ, "GENESYS_OUTPUTS": str(tmp_path / "outputs"), "WANDB_MODE": "offline",
            "PYTHONPATH": str(REPO_ROOT)}


def _checkpoint_step(path: Path):
    try:
        return torch.load(path, map_location="cpu", weights_only=False)["global_step"]
    except Exception:   # absent, or being written right now
        return None


def _csv_steps(path: Path):
    with open(path) as f:
        return [int(row["step"]) for row in csv.DictReader(f) if row.get("train/loss")]


@pytest.fixture
def parent_wandb_service(monkeypatch):
    """A W&B service started by this process, as the token wandb puts in WANDB_SERVICE for its children."""
    import wandb
    monkeypatch.setenv("WANDB_MODE", "offline")
    wandb.setup().ensure_service()
    token = os.environ["WANDB_SERVICE"]
    yield token


def test_kill_resume_wandb_csv(corpus_dir, tmp_path, parent_wandb_service):
    run_dir = tmp_path / "run"
    overrides = data_overrides(corpus_dir) + TINY_SCALE + [
        "scale.token_multiplier=8", "train.ckpt_every=5", "train.log_every=1", "train.progress_bar=false",
        "hardware=cpu", "eval=none", "monitor.time_tolerance=1000", f"hydra.run.dir={run_dir}"]
    ckpt = run_dir / "checkpoints" / "last.ckpt"
    # A parent that uses W&B itself (the evolution's tracker) hands its service to children in WANDB_SERVICE.
    env = {**_env(tmp_path), "WANDB_SERVICE": parent_wandb_service}

    # First attempt: kill -9 as soon as a checkpoint at step >= 10 exists.
    proc = subprocess.Popen(_cmd(*overrides), cwd=tmp_path, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 400
    killed_at = None
    while time.time() < deadline and proc.poll() is None:
        step = _checkpoint_step(ckpt) if ckpt.exists() else None
        if step is not None and step >= 10:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            killed_at = _checkpoint_step(ckpt)
            break
        time.sleep(0.2)
    assert killed_at is not None, f"no checkpoint before the run ended: {proc.stderr.read().decode()[-3000:]}"
    assert not (run_dir / "record.json").exists()

    # Second attempt: same command; it must continue from the checkpoint, not from zero -- at once, although the
    # killed run was attached to the W&B service of this (parent) process, which still holds its run id.
    done = subprocess.run(_cmd(*overrides), cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    record = json.loads((run_dir / "record.json").read_text())
    assert record["resumed_from_step"] == killed_at >= 10
    total = record["steps"]
    assert total == -(-record["params"]["total"] * 8 // 1024) > killed_at
    assert record["stop_reason"] == "completed" and record["val_loss"] < record["unigram_val_loss"]
    assert record["tokens"] == total * 1024
    assert record["autotune"]["init_std"] == record["config"]["scale"]["init_std"]   # the std used: the scale's

    # CSV log: the resumed attempt logs steps after the checkpoint (never restarting at 0).
    steps = _csv_steps(Path(record["paths"]["logs"]))
    resumed = max([0] + [i for i in range(1, len(steps)) if steps[i] <= steps[i - 1]])  # rows of the 2nd attempt
    assert steps[resumed] >= killed_at and steps[-1] == total - 1

    # W&B offline run of this (design, scale): run files with the config, params and autotune result.
    wandb_dir = Path(record["paths"]["wandb"])
    runs = list(wandb_dir.glob("*.wandb"))
    assert wandb_dir.name.startswith("offline-run-") and len(runs) == 1
    blob = runs[0].read_bytes()   # the offline run log holds the config we logged
    assert b"autotune" in blob and b"non_embedding" in blob and b"val_bits_per_byte" in blob
    # Both attempts (killed and resumed) logged to the same W&B run id: one run per (design, scale).
    assert len({p.name.split("-", 3)[-1] for p in wandb_dir.parent.glob("offline-run-*")}) == 1


@pytest.mark.slow
def test_multirun_two_designs_two_scales_submitit_local(corpus_dir, tmp_path):
    designs = "seeds/gpt2,seeds/retnet"
    overrides = ["-m"] + data_overrides(corpus_dir) + [
        f"design={designs}", "scale=cpu_xs,cpu_s", "train.max_steps=3", "train.val_windows=4",
        "train.progress_bar=false", "logger=csv", "hardware=cpu", "eval=none", "hydra/launcher=submitit_local",
        "hydra.launcher.timeout_min=20"]
    done = subprocess.run(_cmd(*overrides), cwd=tmp_path, env=_env(tmp_path), capture_output=True, text=True,
                          timeout=1500)
    assert done.returncode == 0, done.stderr[-3000:]
    records = sorted((tmp_path / "outputs" / "verify").glob("*/*/record.json"))
    got = {(json.loads(p.read_text())["design"], json.loads(p.read_text())["scale"]) for p in records}
    assert got == {(d, s) for d in ("gpt2", "retnet") for s in ("cpu_xs", "cpu_s")}
    for p in records:
        r = json.loads(p.read_text())
        assert r["steps"] == 3 and r["stop_reason"] == "completed" and r["val_loss"] is not None
    assert list((tmp_path / "outputs" / "verify" / ".submitit").glob("*/*_result.pkl"))
