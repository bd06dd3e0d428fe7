"""Verification as a typed job (genesys.verify.job): the caller's overrides reach the child, and the child's exit,
its record and the record's stop reason agree; deadlines and aborts kill the child's whole process group."""
from __future__ import annotations

import os

import pytest
from hydra.errors import ConfigCompositionException
from verify_helpers import TINY_SCALE, data_overrides

from genesys.verify.job import VerificationJob, run_verification


def tiny_job(corpus_dir, run_dir, *extra, design="seeds/gpt2", rung="cpu_xs"):
    overrides = data_overrides(corpus_dir) + TINY_SCALE + [
        "logger=csv", "train.progress_bar=false", "hardware=cpu", "monitor.time_tolerance=1000", *extra]
    return VerificationJob(design=design, rung=rung, run_dir=run_dir, seed=1, eval="none", overrides=tuple(overrides))


def test_overrides_reach_the_child_and_exit_agrees_with_the_record(corpus_dir, tmp_path):
    result = run_verification(tiny_job(corpus_dir, tmp_path / "run", "train.max_steps=3", "train.val_windows=8"),
                              timeout_s=300, threads=1)
    assert result.status == "completed", result.log_tail
    assert result.returncode == 0 and result.record.stop_reason == "completed"
    cfg = result.record.config
    assert cfg["train"]["max_steps"] == 3 and cfg["train"]["val_windows"] == 8 and cfg["seed"] == 1
    assert cfg["scale"]["name"] == "tiny" and cfg["eval"]["kind"] == "none"
    assert result.record.steps == 3
    assert result.log.exists() and result.log.stat().st_size > 0


def test_a_run_the_monitor_stops_exits_3_with_its_reason(corpus_dir, tmp_path):
    # a loss ceiling below the first loss: the monitor stops at once and says why
    result = run_verification(tiny_job(corpus_dir, tmp_path / "run", "monitor.max_loss=0.5", "train.val_windows=8"),
                              timeout_s=300, threads=1)
    assert result.status == "stopped", result.log_tail
    assert result.returncode == 3 and result.record.stop_reason == "loss_too_high"
    assert result.ok


def test_a_crash_gives_no_record_and_an_error(corpus_dir, tmp_path):
    result = run_verification(tiny_job(corpus_dir, tmp_path / "run", design=str(tmp_path / "no_such_design")),
                              timeout_s=300, threads=1)
    assert result.status == "crashed" and result.record is None and not result.ok
    assert result.returncode not in (0, 3) and "exit code" in result.error
    assert "no_such_design" in result.log_tail


def test_a_stale_record_is_never_reported(corpus_dir, tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "record.json").write_text("{}")     # from an earlier run
    result = run_verification(tiny_job(corpus_dir, run_dir, design=str(tmp_path / "missing")), timeout_s=300)
    assert result.status == "crashed" and result.record is None


def test_the_deadline_fires_and_kills_the_child(corpus_dir, tmp_path):
    pids = []
    result = run_verification(tiny_job(corpus_dir, tmp_path / "run", "scale.token_multiplier=1000"),
                              timeout_s=2, threads=1, poll=lambda: pids.append(os.getpid()) or True, poll_every_s=0.5)
    assert result.status == "timeout" and result.record is None
    assert result.seconds < 30 and pids                        # fired near its deadline, polled meanwhile


def test_poll_false_aborts(corpus_dir, tmp_path):
    result = run_verification(tiny_job(corpus_dir, tmp_path / "run", "scale.token_multiplier=1000"),
                              timeout_s=300, poll=lambda: False, poll_every_s=0.5)
    assert result.status == "aborted" and result.seconds < 30


def test_a_bad_override_fails_in_the_caller(tmp_path):
    with pytest.raises(ConfigCompositionException):
        run_verification(VerificationJob("seeds/gpt2", "no_such_scale", tmp_path))


def test_proxy_rung_job_composes_the_proxy_eval(tmp_path):
    cfg = VerificationJob("seeds/gpt2", "proxy", tmp_path, seed=2, overrides=("eval.proxy.workers=1",)).compose()
    assert cfg.eval.kind == "proxy" and cfg.eval.proxy.workers == 1
    assert cfg.eval.proxy.train.seed == 2          # a noise repeat at the proxy rung really trains other models
