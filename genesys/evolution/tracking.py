"""The evolution as a W&B run: its fitness curve, the budget per rung and, at the end, the leaderboard as a W&B
Table. One evolution is one W&B group: this run (job_type "evolution") and every verification's run (job_type
"verify", grouped by the same name through `logger.wandb.group`). Offline unless a key is set (logger.wandb.mode)."""
from __future__ import annotations

import hashlib
import logging
import time
from typing import Callable, List, Optional

from genesys.verify.tracking import wandb_mode

log = logging.getLogger(__name__)
LEADERBOARD_COLUMNS = ["rank", "name", "is_seed", "mode", "parents", "fitness", "confidence", "rungs", "failed"]


def group_name(run_dir) -> str:
    return f"evolution-{run_dir.name}"


def leaderboard_table(entries: List[dict]):
    """leaderboard.json's entries as a wandb.Table (the live tracker's last log and the report's after-the-fact run)."""
    import wandb
    table = wandb.Table(columns=LEADERBOARD_COLUMNS)
    for e in entries:
        table.add_data(e.get("rank"), e.get("name"), e.get("is_seed"), e.get("mode"), ", ".join(e.get("parents") or []),
                       e.get("fitness"), e.get("confidence"), ", ".join(e.get("rungs") or []), e.get("failed"))
    return table


def curve_point(snap, budget: dict, top: int = 5) -> dict:
    """What the run logs at one moment: counts, the best fitness, the mean of the top designs, the budget."""
    scored = sorted((f for f in snap.fitness.values() if f is not None), reverse=True)
    point = {"designs": len(snap.designs), "new_designs": len(snap.new_designs),
             "verifications_done": sum(v.status == "done" for v in snap.verifications),
             "verifications_failed": sum(v.status == "failed" for v in snap.verifications)}
    if scored:
        point["fitness/best"] = scored[0]
        point[f"fitness/top{top}_mean"] = sum(scored[:top]) / len(scored[:top])
    from genesys.evolution.budget import released
    for rung in (budget or {}).get("rungs", []):
        point[f"budget/{rung}/claimed"] = budget["claimed"][rung]
        point[f"budget/{rung}/completed"] = budget["completed"][rung]
        open_now = released(budget, rung)
        if open_now is not None:
            point[f"budget/{rung}/released"] = open_now
    return point


class EvolutionTracker:
    """Opened by the orchestrator; `log` is cheap to call every poll (it logs on change, at most every `every_s`)."""

    def __init__(self, wandb_cfg: Optional[dict], run_dir, every_s: float = 30.0):
        self.run, self.every_s, self.last_t, self.last_point = None, every_s, 0.0, None
        if not wandb_cfg or not wandb_cfg.get("enabled"):
            return
        mode = wandb_mode(wandb_cfg.get("mode"))
        if mode == "disabled":
            return
        try:
            import wandb
            digest = hashlib.sha1(str(run_dir.resolve()).encode()).hexdigest()[:8]
            self.run = wandb.init(project=wandb_cfg.get("project") or "genesys", entity=wandb_cfg.get("entity"),
                                  group=wandb_cfg.get("group") or group_name(run_dir), job_type="evolution",
                                  name=group_name(run_dir), id=f"{group_name(run_dir)}-{digest}", resume="allow",
                                  dir=str(run_dir), mode=mode, reinit="create_new")
        except Exception as exc:   # noqa: BLE001 (tracking must never stop the evolution)
            log.warning("W&B tracking of the evolution is off: %s", exc)
            self.run = None

    def log(self, make_point: Callable[[], dict], force: bool = False) -> None:
        """Log `make_point()` (called only when a point is due) if it changed since the last one."""
        if self.run is None or (not force and time.monotonic() - self.last_t < self.every_s):
            return
        point = make_point()
        self.last_t = time.monotonic()
        if point != self.last_point:
            self.run.log(point)
            self.last_point = point

    def finish(self, entries: List[dict], summary: dict) -> None:
        if self.run is None:
            return
        self.run.log({"leaderboard": leaderboard_table(entries)})
        self.run.summary.update({"new_designs": summary.get("new_designs"), "designs": summary.get("designs")})
        self.run.finish()
        self.run = None
