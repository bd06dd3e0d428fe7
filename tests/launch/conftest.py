"""A real single-node SLURM cluster, started by launch/slurm_local.sh once per test session."""
import os
import subprocess

import pytest

from genesys.paths import REPO_ROOT


@pytest.fixture(scope="session")
def slurm_cluster(tmp_path_factory):
    folder = tmp_path_factory.mktemp("slurm")
    script = REPO_ROOT / "launch" / "slurm_local.sh"
    proc = subprocess.run(["bash", str(script), "start", str(folder)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"single-node SLURM did not start:\n{proc.stdout}\n{proc.stderr}"
    old = os.environ.get("SLURM_CONF")
    os.environ["SLURM_CONF"] = str(folder / "slurm.conf")
    yield folder
    subprocess.run(["bash", str(script), "stop", str(folder)], capture_output=True, timeout=60)
    if old is None:
        os.environ.pop("SLURM_CONF", None)
    else:
        os.environ["SLURM_CONF"] = old
