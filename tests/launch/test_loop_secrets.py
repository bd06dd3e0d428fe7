"""SLURM job scripts never hold the caller's secrets: the worker jobs inherit the submitting environment through
sbatch (so a key reaches the job), but the `*_submission.sh` that submitit writes on the shared filesystem does not
contain its value."""
from __future__ import annotations

import os

import pytest

from genesys.evolution.launcher import slurm_executor
from genesys.evolution.store.engine import DB_FILE
from tests.evolution.worker_helpers import worker_settings

pytestmark = pytest.mark.integration
SECRET = "sk-slurm-secret-91b2"


def _secret_seen() -> bool:
    return os.environ.get("GENESYS_TEST_API_KEY") == SECRET


def test_submission_script_holds_no_secret(slurm_cluster, tmp_path, monkeypatch):
    monkeypatch.setenv("GENESYS_TEST_API_KEY", SECRET)
    launcher = {"kind": "slurm", "max_num_timeout": 1,
                "slurm": {"partition": "debug", "gpus_per_node": 0, "cpus_per_task": 1, "mem": "1GB", "time": 5}}
    settings = worker_settings(tmp_path / "run", f"sqlite:///{tmp_path / DB_FILE}", tmp_path, launcher=launcher)
    job = slurm_executor(settings, "verifier").submit(_secret_seen)
    assert job.result() is True                       # the job ran with the submitting environment ...
    scripts = list((tmp_path / "run" / "workers").rglob("*_submission.sh"))
    assert scripts, "submitit wrote no job script"
    for script in scripts:
        assert SECRET not in script.read_text()       # ... yet its script on the shared filesystem holds no secret
