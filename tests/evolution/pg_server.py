"""A throw-away PostgreSQL server for tests: initdb + pg_ctl in a temp folder, Unix socket only, trust auth.

Postgres refuses to run as root, so as root the server runs as the ``postgres`` (else ``nobody``) user via runuser.
"""
from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

PG_BIN_CANDIDATES = [Path(p) for p in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)]
USER = "genesys"


def find_bin() -> Path | None:
    """The folder holding initdb and pg_ctl: $GENESYS_PG_BIN, PATH, or /usr/lib/postgresql/<version>/bin."""
    explicit = os.environ.get("GENESYS_PG_BIN")
    candidates = [Path(explicit)] if explicit else []
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).parent)
    for folder in candidates + PG_BIN_CANDIDATES:
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    return None


def _run_as() -> list[str]:
    if os.geteuid() != 0:
        return []
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return ["runuser", "-u", name, "--"]
    raise RuntimeError("running as root and no unprivileged user to run PostgreSQL as")


@dataclass
class PgServer:
    folder: Path
    bin: Path
    prefix: list[str]

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{USER}@/{database}?host={self.folder}"

    def restart(self, mode: str = "fast", timeout_s: int = 60) -> None:
        """Stop the server (``fast``: open connections are ended, as in a failover) and start it again on the same
        socket and data."""
        subprocess.run(self.prefix + [str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), "-l",
                                      str(self.folder / "server.log"), "-m", mode, "-w", "-t", str(timeout_s), "-o",
                                      _options(self.folder), "restart"], check=True, capture_output=True,
                       timeout=timeout_s + 10)

    def stop(self) -> None:
        subprocess.run(self.prefix + [str(self.bin / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "immediate",
                                      "stop"], capture_output=True, timeout=30)
        shutil.rmtree(self.folder, ignore_errors=True)


def _options(folder: Path) -> str:
    return f"-k {folder} -c listen_addresses= -p 5432 -F -c max_connections=100"


def start(bin_folder: Path, timeout_s: int = 60) -> PgServer:
    folder = Path(tempfile.mkdtemp(prefix="pg-", dir="/tmp"))  # short path: the socket name has a length limit
    prefix = _run_as()
    if prefix:
        shutil.chown(folder, user=prefix[2])
    data, log = folder / "data", folder / "server.log"
    subprocess.run(prefix + [str(bin_folder / "initdb"), "-D", str(data), "-U", USER, "--auth=trust", "-E", "UTF8",
                             "--no-sync"], check=True, capture_output=True, timeout=timeout_s)
    options = _options(folder)
    started = subprocess.run(prefix + [str(bin_folder / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t",
                                       str(timeout_s), "-o", options, "start"], capture_output=True, text=True,
                             timeout=timeout_s + 10)
    if started.returncode != 0:
        text = log.read_text() if log.exists() else ""
        shutil.rmtree(folder, ignore_errors=True)
        raise RuntimeError(f"PostgreSQL did not start: {started.stdout}{started.stderr}{text}")
    return PgServer(folder, bin_folder, prefix)


def start_or_skip() -> PgServer:
    """A fresh server for a test fixture; the test is skipped where PostgreSQL is not installed."""
    import pytest
    bin_folder = find_bin()
    if bin_folder is None:
        pytest.skip("PostgreSQL binaries (initdb, pg_ctl) not found: set GENESYS_PG_BIN or install postgresql")
    return start(bin_folder)
