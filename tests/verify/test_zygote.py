"""The preloaded verification parent: its children run in their own session with the environment and log they are
given, exit codes come back as subprocess reports them, kills work, and a child dies with its zygote."""
from __future__ import annotations

import json
import signal
import time

import pytest

from genesys.verify.job import VerificationJob, _kill_group, child_env, run_verification
from genesys.verify.zygote import Zygote, ZygoteError, _gone

LIGHT = ("json",)   # tests of the protocol need no heavy preload


@pytest.fixture
def zygote(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-not-for-children")
    with Zygote(child_env(1), preload=LIGHT) as z:
        yield z


def probe(zygote, tmp_path, *argv, env_extra=None):
    log = tmp_path / "probe.log"
    child = zygote.start("tests.verify.zygote_probe", list(argv), child_env(1, env_extra), log, cwd=str(tmp_path))
    return child, log


def test_children_run_in_their_own_session_with_their_env_cwd_and_log(zygote, tmp_path):
    child, log = probe(zygote, tmp_path, "7", env_extra={"PROBE": "yes"})
    assert child.wait(timeout=30) == 7
    report = json.loads(log.read_text().splitlines()[0])
    assert report["pid"] == child.pid and report["sid"] == child.pid      # own session: killpg reaches it alone
    assert report["cwd"] == str(tmp_path) and report["argv"] == ["7"] and report["probe_env"] == "yes"
    assert report["secret"] is None                                    # secrets never reach design code


def test_a_killed_child_reports_the_signal(zygote, tmp_path):
    child, _ = probe(zygote, tmp_path, "sleep")
    assert child.poll() is None
    _kill_group(child)
    assert child.returncode == -signal.SIGTERM


def test_a_child_dies_with_its_zygote(tmp_path):
    z = Zygote(child_env(1), preload=LIGHT)
    child, log = probe(z, tmp_path, "sleep")
    while not log.exists() or not log.read_text():
        time.sleep(0.01)
    z.proc.kill()
    z.proc.wait()
    assert child.wait(timeout=30) == -signal.SIGKILL
    assert isinstance(child.lost, ZygoteError)                 # the caller can tell: not the design's failure
    assert _gone(child.pid)


@pytest.mark.slow
def test_a_forked_verification_gives_the_record_of_a_fresh_one(tmp_path):
    overrides = ("eval.proxy.tasks=[memorization]", "++eval.proxy.steps.memorization=10", "++eval.proxy.workers=1")
    records = []
    with Zygote(child_env(1)) as z:
        for name, kw in (("fresh", {}), ("forked", {"zygote": z})):
            job = VerificationJob(design="seeds/gpt2", rung="proxy", run_dir=tmp_path / name, overrides=overrides)
            result = run_verification(job, timeout_s=300, threads=1, **kw)
            assert result.status == "completed", result.log_tail
            records.append(result.record.eval["proxy"])
    assert records[0]["memorization"]["accuracy"] == records[1]["memorization"]["accuracy"]


def test_a_zygote_that_cannot_import_says_why_in_its_log(tmp_path):
    log = tmp_path / "workers" / "zygote.log"
    with pytest.raises(ZygoteError, match="exited"):
        Zygote(child_env(1), preload=("genesys_no_such_module",), log=log)
    assert "No module named 'genesys_no_such_module'" in log.read_text()
