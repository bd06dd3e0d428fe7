"""The proxy suite: train a small model of the design on each synthetic task, report test accuracy per task."""
from __future__ import annotations

import logging
from typing import Dict, Iterable, Optional

from genesys.evaluate.proxy.tasks import TASKS, make_task
from genesys.evaluate.proxy.train import TrainSettings, train_on_task
from genesys.gau import GAUTree

log = logging.getLogger(__name__)


def run_proxy_suite(tree: GAUTree, settings: TrainSettings = TrainSettings(), tasks: Optional[Iterable[str]] = None,
                    difficulty: str = "easy", overrides: Optional[Dict[str, dict]] = None,
                    device: Optional[str] = None) -> Dict[str, dict]:
    """{task: {"accuracy", "random_baseline", "metric": "accuracy", "higher_is_better": True, "seconds", ...}},
    the table format the fitness and the verification record use."""
    table = {}
    for name in tasks or TASKS:
        task = make_task(name, difficulty, **(overrides or {}).get(name, {}))
        result = train_on_task(tree, task, settings, device=device)
        table[name] = {**result, "metric": "accuracy", "higher_is_better": True}
        log.info("proxy %s: accuracy %.3f (random %.3f) in %.1f s", name, result["accuracy"],
                 result["random_baseline"], result["seconds"])
    return table
