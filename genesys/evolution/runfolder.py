"""The run folder as a worker needs it: writable, with room for a verification's checkpoints and logs.

A full disk or a read-only run folder is the machine's fault, not the design's: the verifier hands its claim back
(no failed attempt counted) and stops with a message that names the folder, instead of failing design after design.
"""
from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path


class RunFolderError(RuntimeError):
    """The run folder cannot be written or is (nearly) full."""


def check_run_folder(folder: Path, min_free_mb: float) -> None:
    """RunFolderError unless ``folder`` can be created, a file written in it, and ``min_free_mb`` MiB are free."""
    folder = Path(folder)
    probe = folder / f".write-probe-{uuid.uuid4().hex}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with open(probe, "wb") as f:
            f.write(b"\0" * 4096)
            f.flush()
            os.fsync(f.fileno())
    except OSError as exc:
        raise RunFolderError(f"run folder {folder} cannot be written ({exc.strerror or exc}); free space or fix "
                             f"its permissions, then rerun the same command to resume") from exc
    finally:
        try:
            probe.unlink(missing_ok=True)
        except OSError:
            pass
    free_mb = shutil.disk_usage(folder).free / 2 ** 20
    if free_mb < min_free_mb:
        raise RunFolderError(f"run folder {folder}: only {free_mb:.1f} MiB free, a verification needs at least "
                             f"{min_free_mb:g} MiB (verify.min_free_mb); free space, then rerun the same command to "
                             f"resume")
