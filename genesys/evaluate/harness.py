"""Run lm-eval's `simple_evaluate` on the genesys adapter: local task folders offline, the paper's list online.

Local tasks use `TaskManager(include_path=..., include_defaults=False)`: indexing lm-eval's ~10k built-in
task configs costs ~11 s and is useless offline.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Dict, Iterable, Optional

from lm_eval import simple_evaluate
from lm_eval.tasks import TaskManager

from genesys.evaluate.adapter import GenesysEvalLM

log = logging.getLogger(__name__)


def summarize(results: dict, baselines: Optional[Dict[str, dict]] = None) -> Dict[str, dict]:
    """lm-eval's results -> {task: {metric: value, ...}} (plain floats, no ",none" filter suffix, no stderr),
    with `random_baseline`, `metric` and `higher_is_better` attached where the task declares them."""
    table: Dict[str, dict] = {}
    for task, metrics in results["results"].items():
        row = {}
        for key, value in metrics.items():
            name, _, _filter = key.partition(",")
            if "_stderr" in name or not isinstance(value, (int, float)):
                continue
            row[name] = float(value)
        if baselines and task in baselines:
            row.update({k: baselines[task][k] for k in ("random_baseline", "metric", "higher_is_better")})
        table[task] = row
    return table


def run_tasks(lm: GenesysEvalLM, tasks: Iterable[str], include_path=None, limit: Optional[float] = None,
              num_fewshot: Optional[int] = None, bootstrap_iters: int = 0) -> dict:
    """lm-eval results dict for `tasks`; only `include_path` is indexed when given, else all built-in tasks."""
    if include_path is not None:
        manager = TaskManager(include_path=str(include_path), include_defaults=False)
    else:
        manager = TaskManager()
    return simple_evaluate(model=lm, tasks=list(tasks), task_manager=manager, limit=limit, num_fewshot=num_fewshot,
                           bootstrap_iters=bootstrap_iters, log_samples=False, verbosity="WARNING")


def run_local(lm: GenesysEvalLM, task_dir, limit: Optional[float] = None) -> Dict[str, dict]:
    """Evaluate every task of a folder written by `build_local_tasks`; returns the summarized table."""
    task_dir = Path(task_dir)
    manifest = json.loads((task_dir / "tasks.json").read_text())
    results = run_tasks(lm, sorted(manifest), include_path=task_dir, limit=limit)
    return summarize(results, manifest)


def run_paper(lm: GenesysEvalLM, tasks: Iterable[str], limit: Optional[float] = None) -> Dict[str, dict]:
    """The original Genesys task list (needs the HF hub for the datasets)."""
    return summarize(run_tasks(lm, tasks, limit=limit))
