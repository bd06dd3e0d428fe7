"""The proxy suite: train a small model of the design on each synthetic task, report test accuracy per task."""
from __future__ import annotations

import dataclasses
import logging
from typing import Dict, Iterable, Optional

from genesys.evaluate.proxy.tasks import TASKS, make_task
from genesys.evaluate.proxy.train import TrainSettings, train_on_task
from genesys.gau import GAUTree

log = logging.getLogger(__name__)

# Fraction of `TrainSettings.steps` each task trains for: tasks that saturate early (or whose score
# is decided early) get fewer steps, so the suite's time goes where it separates designs.
STEP_FRACTION: Dict[str, float] = {"compression": 0.25, "memorization": 0.25, "selective_copying": 0.5}


def run_proxy_suite(tree: GAUTree, settings: TrainSettings = TrainSettings(), tasks: Optional[Iterable[str]] = None,
                    difficulty: str = "easy", overrides: Optional[Dict[str, dict]] = None,
                    device: Optional[str] = None) -> Dict[str, dict]:
    """{task: {"accuracy", "random_baseline", "metric": "accuracy", "higher_is_better": True, "seconds", ...}},
    the table format the fitness and the verification record use. `overrides[task]` holds generator
    parameters, plus optionally `steps` (that task's training steps, instead of the STEP_FRACTION rule)."""
    table = {}
    for name in tasks or TASKS:
        params = dict((overrides or {}).get(name, {}))
        steps = params.pop("steps", None) or max(1, round(settings.steps * STEP_FRACTION.get(name, 1.0)))
        task = make_task(name, difficulty, **params)
        result = train_on_task(tree, task, dataclasses.replace(settings, steps=int(steps)), device=device)
        table[name] = {**result, "metric": "accuracy", "higher_is_better": True}
        log.info("proxy %s: accuracy %.3f (random %.3f) in %.1f s", name, result["accuracy"],
                 result["random_baseline"], result["seconds"])
    return table
