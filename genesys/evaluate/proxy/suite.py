"""The proxy suite: train a small model of the design on each synthetic task, report test accuracy per task.

Tasks are independent trainings, so on a CPU they run in parallel worker processes (one thread each): on
2 cores that halves the suite's wall time, where two intra-op threads on such small matrices gain little
and spin against other jobs on a shared machine.
"""
from __future__ import annotations

import dataclasses
import logging
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Dict, Iterable, List, Optional, Tuple, Union

from genesys.evaluate.proxy.tasks import TASKS, make_task
from genesys.evaluate.proxy.train import TrainSettings, train_on_task
from genesys.gau import GAUTree

log = logging.getLogger(__name__)

# Training steps per task at the easy preset (batch 16): past where the gpt2 seed's attention leaves the
# recall plateau (in-context recall 1.00 from ~200 steps, MQAR 0.97-1.00 at 400; fuzzy recall still climbs),
# while compression and memorization are decided early. 1,400 steps in all: the slowest seed (mamba2, ~2x
# gpt2's step time) fits in <= 60 s on 2 cores.
DEFAULT_STEPS: Dict[str, int] = {"in_context_recall": 200, "fuzzy_recall": 350, "noisy_recall": 225,
                                 "selective_copying": 125, "compression": 50, "memorization": 50, "mqar": 400}

Job = Tuple[str, dict, int]  # (task name, generator parameters, training steps)


class ProxyWorkerError(RuntimeError):
    """A worker process died (killed, out of memory, crashed in native code) while training a task."""


def plan_jobs(tasks: Optional[Iterable[str]] = None, overrides: Optional[Dict[str, dict]] = None,
              steps: Optional[Dict[str, int]] = None, step_scale: float = 1.0, default_steps: int = 200) -> List[Job]:
    """One job per task: its generator parameters and training steps, taken from `overrides[task]["steps"]`,
    else `steps[task]` (DEFAULT_STEPS when not given) x step_scale, else default_steps x step_scale."""
    steps = DEFAULT_STEPS if steps is None else steps
    jobs = []
    for name in tasks or TASKS:
        params = dict((overrides or {}).get(name, {}))
        n = params.pop("steps", None) or max(1, round(step_scale * steps.get(name, default_steps)))
        jobs.append((name, params, int(n)))
    return jobs


def resolve_workers(workers: Union[int, str, None], n_jobs: int, device: Optional[str]) -> int:
    """"auto": one process per usable CPU core, at most one per task; always 1 on an accelerator."""
    if device not in (None, "cpu"):
        return 1
    if workers in (None, "auto"):
        workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(int(workers), n_jobs))


def _train_job(tree: GAUTree, job: Job, settings: TrainSettings, difficulty: str, device: Optional[str]) -> dict:
    name, params, steps = job
    task = make_task(name, difficulty, **params)
    result = train_on_task(tree, task, dataclasses.replace(settings, steps=steps), device=device)
    return {**result, "metric": "accuracy", "higher_is_better": True}


def _worker_init() -> None:
    import torch
    torch.set_num_threads(1)


def run_proxy_suite(tree: GAUTree, settings: TrainSettings = TrainSettings(), tasks: Optional[Iterable[str]] = None,
                    difficulty: str = "easy", overrides: Optional[Dict[str, dict]] = None,
                    device: Optional[str] = None, workers: Union[int, str, None] = 1,
                    steps: Optional[Dict[str, int]] = None, step_scale: float = 1.0) -> Dict[str, dict]:
    """{task: {"accuracy", "random_baseline", "metric": "accuracy", "higher_is_better": True, "seconds", ...}},
    the table format the fitness and the verification record use. `overrides[task]` holds generator
    parameters, plus optionally `steps`; see `plan_jobs` for the step rule. `workers` > 1 (or "auto") trains
    tasks in that many spawned processes; results do not depend on it (each task seeds its model and data)."""
    jobs = plan_jobs(tasks, overrides, steps, step_scale, settings.steps)
    n_workers = resolve_workers(workers, len(jobs), device)
    if n_workers == 1:
        results = [_train_job(tree, job, settings, difficulty, device) for job in jobs]
    else:
        results = _run_parallel(tree, jobs, settings, difficulty, n_workers)
    table = {}
    for (name, _, _), result in zip(jobs, results):
        table[name] = result
        log.info("proxy %s: accuracy %.3f (random %.3f) in %.1f s", name, result["accuracy"],
                 result["random_baseline"], result["seconds"])
    return table


def _run_parallel(tree: GAUTree, jobs: List[Job], settings: TrainSettings, difficulty: str, n_workers: int) -> list:
    # longest jobs first, so the last one to start is a short one
    order = sorted(range(len(jobs)), key=lambda i: -jobs[i][2])
    context = multiprocessing.get_context("spawn")  # no fork of a process that already runs torch threads
    with ProcessPoolExecutor(max_workers=n_workers, mp_context=context, initializer=_worker_init) as pool:
        futures = {i: pool.submit(_train_job, tree, jobs[i], settings, difficulty, None) for i in order}
        results = [None] * len(jobs)
        for i in order:
            try:
                results[i] = futures[i].result()
            except BrokenProcessPool:
                raise ProxyWorkerError(f"a proxy-suite worker died while training {jobs[i][0]!r} "
                                       f"(killed or out of memory?)") from None
    return results
