"""Where the workers run: local processes (submitit's LocalExecutor) or SLURM jobs (submitit's SlurmExecutor).

Both return submitit jobs the orchestrator watches the same way. On SLURM, verifier workers are one job array; a
worker job is `Checkpointable`, so on preemption or time-out submitit requeues it and the requeued worker resumes
from the store (its claim was handed back on the way out, or comes back when its lease expires).
"""
from __future__ import annotations

import contextlib
import shutil
import subprocess
import time
from typing import List, Optional, Set, Tuple

import submitit

from genesys.evolution.settings import EvolutionSettings
from genesys.evolution.workers import designer_worker, verifier_worker

WORKERS = {"designer": designer_worker, "verifier": verifier_worker}


class WorkerJob(submitit.helpers.Checkpointable):
    """A designer or verifier worker as a submitit job; requeued as itself (same kind, same index)."""

    def __call__(self, kind: str, settings: EvolutionSettings, index: int) -> dict:
        return WORKERS[kind](settings, index)


def _timeout_min(settings: EvolutionSettings) -> int:
    return int((settings.stop_wall_time_s or 7 * 24 * 3600) / 60 + 10)


def local_executor(settings: EvolutionSettings):
    executor = submitit.LocalExecutor(folder=str(settings.run_dir / "workers" / "%j"))
    executor.update_parameters(timeout_min=_timeout_min(settings))
    return executor


def slurm_executor(settings: EvolutionSettings, kind: str):
    """A SlurmExecutor with the launcher's parameters (`slurm` for verifiers, overlaid by `designer_slurm`)."""
    launcher = settings.launcher
    params = {k: v for k, v in (launcher.get("slurm") or {}).items() if v is not None}
    if kind == "designer":
        params.update({k: v for k, v in (launcher.get("designer_slurm") or {}).items() if v is not None})
    params.setdefault("time", _timeout_min(settings))
    params["job_name"] = f"genesys-{kind}-{settings.run_dir.name}"
    executor = submitit.SlurmExecutor(folder=str(settings.run_dir / "workers" / "%j"),
                                      max_num_timeout=int(launcher.get("max_num_timeout", 3)))
    executor.update_parameters(**params)
    return executor


def _submit(executor, kind: str, settings: EvolutionSettings, count: int, array: bool) -> List[Tuple[str, object]]:
    if count <= 0:
        return []
    with executor.batch() if array else contextlib.nullcontext():     # a batch is one SLURM job array
        jobs = [executor.submit(WorkerJob(), kind, settings, i) for i in range(count)]
    return [(kind, j) for j in jobs]


def start_workers(settings: EvolutionSettings) -> list:
    """Submit the designer and verifier workers; [(kind, job)]."""
    if settings.launcher.get("kind", "local") != "slurm":
        executor = local_executor(settings)
        return (_submit(executor, "designer", settings, settings.designers, False)
                + _submit(executor, "verifier", settings, settings.verifiers, False))
    on_slurm = bool(settings.launcher.get("designers_on_slurm", False))
    designers = slurm_executor(settings, "designer") if on_slurm else local_executor(settings)
    return (_submit(designers, "designer", settings, settings.designers, on_slurm)
            + _submit(slurm_executor(settings, "verifier"), "verifier", settings, settings.verifiers, True))


class JobWatch:
    """Whether submitted jobs are finished. submitit asks `sacct`, which clusters without accounting storage do not
    answer (a cancelled job would then look alive forever); a SLURM job that `squeue` no longer lists is finished
    too. squeue is asked at most every `every_s`, once for all jobs."""

    def __init__(self, every_s: float = 5.0):
        self.every_s, self.checked, self.queued = every_s, 0.0, None

    def _squeue(self) -> Optional[Set[str]]:
        if time.monotonic() - self.checked >= self.every_s and shutil.which("squeue"):
            try:
                out = subprocess.run(["squeue", "-h", "-r", "-o", "%i"], capture_output=True, text=True, timeout=30)
                self.queued = set(out.stdout.split()) if out.returncode == 0 else None
            except subprocess.TimeoutExpired:
                self.queued = None
            self.checked = time.monotonic()
        return self.queued

    def finished(self, job) -> bool:
        try:
            if job.done():
                return True
        except Exception:   # noqa: BLE001 (a job whose files vanished counts as finished)
            return True
        if isinstance(job, submitit.SlurmJob):
            queued = self._squeue()
            return queued is not None and str(job.job_id) not in queued
        return False
