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

from omegaconf import OmegaConf

from genesys.evaluate.proxy.tasks import TASKS, make_task
from genesys.evaluate.proxy.train import TrainSettings, train_on_task
from genesys.gau import GAUTree
from genesys.paths import CONF_DIR

log = logging.getLogger(__name__)

# Training steps and batch per task at the easy preset: conf/eval/proxy.yaml (`proxy.steps`, `proxy.batch_sizes`) is
# the one source, with the measurements behind each number; the code defaults below are read from it so a suite
# run from Python (bench/eval.py, tests) and one from a Hydra config train the same budgets.
_CONF = OmegaConf.load(CONF_DIR / "eval" / "proxy.yaml").proxy
DEFAULT_STEPS: Dict[str, int] = {k: int(v) for k, v in _CONF.steps.items()}
DEFAULT_BATCH: Dict[str, int] = {k: int(v) for k, v in _CONF.batch_sizes.items()}

Job = Tuple[str, dict, int, int]  # (task name, generator parameters, training steps, batch size)


class ProxyWorkerError(RuntimeError):
    """A worker process died (killed, out of memory, crashed in native code) while training a task."""


def plan_jobs(tasks: Optional[Iterable[str]] = None, overrides: Optional[Dict[str, dict]] = None,
              steps: Optional[Dict[str, int]] = None, step_scale: float = 1.0, default_steps: int = 200,
              batch_sizes: Optional[Dict[str, int]] = None, default_batch: int = 16) -> List[Job]:
    """One job per task: its generator parameters, training steps and batch size. Steps come from
    `overrides[task]["steps"]`, else `steps[task]` (DEFAULT_STEPS when not given) x step_scale, else
    default_steps x step_scale; the batch size from `overrides[task]["batch_size"]`, else `batch_sizes[task]`
    (DEFAULT_BATCH when not given), else default_batch."""
    steps = DEFAULT_STEPS if steps is None else steps
    batch_sizes = DEFAULT_BATCH if batch_sizes is None else batch_sizes
    jobs = []
    for name in tasks or TASKS:
        params = dict((overrides or {}).get(name, {}))
        n = params.pop("steps", None) or max(1, round(step_scale * steps.get(name, default_steps)))
        batch = params.pop("batch_size", None) or batch_sizes.get(name, default_batch)
        jobs.append((name, params, int(n), int(batch)))
    return jobs


def resolve_workers(workers: Union[int, str, None], n_jobs: int, device: Optional[str]) -> int:
    """"auto": one process per usable CPU core, at most one per task; always 1 on an accelerator."""
    if device not in (None, "cpu"):
        return 1
    if workers in (None, "auto"):
        workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(int(workers), n_jobs))


# Repeat r of a suite at seed s trains with seed s + REPEAT_SEED_STRIDE * r: suites at seeds 0, 1, 2 with
# repeats > 1 then share no training run, so the spread measured over `seed` stays honest.
REPEAT_SEED_STRIDE = 1000


def repeat_seeds(seed: int, repeats: int) -> List[int]:
    """The training seeds of a suite's repeats."""
    return [seed + REPEAT_SEED_STRIDE * r for r in range(max(1, int(repeats)))]


def average_repeats(results: List[dict]) -> dict:
    """One task's row from its repeats: accuracy and final loss are the means, seconds the sum;
    "accuracy_repeats" lists each repeat's accuracy and "accuracy_spread" is their max - min (None for one)."""
    first, acc = results[0], [r["accuracy"] for r in results]
    row = {**first, "accuracy": sum(acc) / len(acc), "seconds": sum(r["seconds"] for r in results),
           "final_loss": sum(r["final_loss"] for r in results) / len(results), "repeats": len(results),
           "accuracy_repeats": acc, "accuracy_spread": max(acc) - min(acc) if len(acc) > 1 else None}
    return row


def _train_job(tree: GAUTree, job: Job, settings: TrainSettings, difficulty: str, device: Optional[str],
               seed: Optional[int] = None) -> dict:
    name, params, steps, batch_size = job
    task = make_task(name, difficulty, **params)
    settings = dataclasses.replace(settings, steps=steps, batch_size=batch_size,
                                   seed=settings.seed if seed is None else seed)
    result = train_on_task(tree, task, settings, device=device)
    return {**result, "metric": "accuracy", "higher_is_better": True}


def _worker_init() -> None:
    import torch
    torch.set_num_threads(1)


def run_proxy_suite(tree: GAUTree, settings: TrainSettings = TrainSettings(), tasks: Optional[Iterable[str]] = None,
                    difficulty: str = "easy", overrides: Optional[Dict[str, dict]] = None,
                    device: Optional[str] = None, workers: Union[int, str, None] = 1,
                    steps: Optional[Dict[str, int]] = None, step_scale: float = 1.0,
                    batch_sizes: Optional[Dict[str, int]] = None, repeats: int = 1) -> Dict[str, dict]:
    """{task: {"accuracy", "random_baseline", "metric": "accuracy", "higher_is_better": True, "seconds", ...}},
    the table format the fitness and the verification record use. `overrides[task]` holds generator
    parameters, plus optionally `steps` and `batch_size`; see `plan_jobs` for the rule. `workers` > 1 (or "auto") trains
    tasks in that many spawned processes; results do not depend on it (each task seeds its model and data).
    `repeats` > 1 trains every task that many times (seeds: `repeat_seeds`) and averages (`average_repeats`):
    a small model's escape from a recall plateau is a matter of its init, and the mean of a few is steadier."""
    jobs = plan_jobs(tasks, overrides, steps, step_scale, settings.steps, batch_sizes, settings.batch_size)
    seeds = repeat_seeds(settings.seed, repeats)
    runs = [(job, seed) for job in jobs for seed in seeds]   # job-major: job i's repeats are runs[i*n:(i+1)*n]
    n_workers = resolve_workers(workers, len(runs), device)
    if n_workers == 1:
        results = [_train_job(tree, job, settings, difficulty, device, seed) for job, seed in runs]
    else:
        results = _run_parallel(tree, runs, settings, difficulty, n_workers)
    table = {}
    for i, (name, *_) in enumerate(jobs):
        mine = results[i * len(seeds):(i + 1) * len(seeds)]
        table[name] = mine[0] if len(mine) == 1 else average_repeats(mine)
        result = table[name]
        log.info("proxy %s: accuracy %.3f (random %.3f) in %.1f s", name, result["accuracy"],
                 result["random_baseline"], result["seconds"])
    return table


def _run_parallel(tree: GAUTree, runs: List[Tuple[Job, int]], settings: TrainSettings, difficulty: str,
                  n_workers: int) -> list:
    # longest jobs first, so the last one to start is a short one
    jobs = [job for job, _ in runs]
    order = sorted(range(len(jobs)), key=lambda i: -jobs[i][2] * jobs[i][3])
    context = multiprocessing.get_context("spawn")  # no fork of a process that already runs torch threads
    with ProcessPoolExecutor(max_workers=n_workers, mp_context=context, initializer=_worker_init) as pool:
        futures = {i: pool.submit(_train_job, tree, jobs[i], settings, difficulty, None, runs[i][1]) for i in order}
        results = [None] * len(jobs)
        for i in order:
            try:
                results[i] = futures[i].result()
            except BrokenProcessPool:
                raise ProxyWorkerError(f"a proxy-suite worker died while training {jobs[i][0]!r} "
                                       f"(killed or out of memory?)") from None
    return results
