"""A real single-node SLURM cluster, started by launch/slurm_local.sh once per test session."""
import os
import socket
import subprocess

import pytest

from genesys.paths import REPO_ROOT


def _free_port_pair() -> int:
    """A port p with p and p + 1 free (slurmctld and slurmd), so a cluster already running elsewhere is no clash."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port < 65000:
            with socket.socket() as s2:
                try:
                    s2.bind(("127.0.0.1", port + 1))
                    return port
                except OSError:
                    continue
    raise RuntimeError("no two consecutive free ports")


@pytest.fixture(scope="session")
def slurm_cluster(tmp_path_factory):
    folder = tmp_path_factory.mktemp("slurm")
    script = REPO_ROOT / "launch" / "slurm_local.sh"
    env = dict(os.environ, GENESYS_SLURM_PORT=str(_free_port_pair()))
    proc = subprocess.run(["bash", str(script), "start", str(folder)], capture_output=True, text=True, timeout=300,
                          env=env)
    assert proc.returncode == 0, f"single-node SLURM did not start:\n{proc.stdout}\n{proc.stderr}"
    old = os.environ.get("SLURM_CONF")
    os.environ["SLURM_CONF"] = str(folder / "slurm.conf")
    yield folder
    subprocess.run(["bash", str(script), "stop", str(folder)], capture_output=True, timeout=60)
    if old is None:
        os.environ.pop("SLURM_CONF", None)
    else:
        os.environ["SLURM_CONF"] = old


@pytest.fixture(scope="session")
def postgres_url():
    """A throw-away PostgreSQL started by launch/postgres.sh (the script users run), its store URL."""
    import tempfile
    folder = tempfile.mkdtemp(prefix="gpg-", dir="/tmp")      # short: the socket path has a length limit
    script = REPO_ROOT / "launch" / "postgres.sh"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, GENESYS_PG_PORT=str(port))
    proc = subprocess.run(["bash", str(script), "start", folder], capture_output=True, text=True, timeout=120, env=env)
    if proc.returncode == 2:
        pytest.skip(f"no PostgreSQL on this machine: {proc.stderr.strip()}")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    url = proc.stdout.strip().split("=", 1)[1].strip("'")
    yield url
    subprocess.run(["bash", str(script), "stop", folder], capture_output=True, timeout=60, env=env)
    import shutil
    shutil.rmtree(folder, ignore_errors=True)
