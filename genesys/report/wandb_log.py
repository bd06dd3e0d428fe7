"""The evolution as one W&B run (job type "evolution"), logged from the store after the fact: the population
curve, verifications per rung, the scorecard and the leaderboard as a wandb.Table. Offline unless a key is set
(genesys.verify.tracking.wandb_mode), in the same project and group as the run's verification runs when the run's
config names them, so one evolution is one W&B group."""
from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path
from typing import Optional

from genesys.evolution.tracking import group_name, leaderboard_table
from genesys.verify.tracking import wandb_mode


def wandb_target(run) -> dict:
    """project and group from the run's logger config (the verification runs' own), else defaults."""
    cfg = {}
    if run.run_dir is not None and (run.run_dir / ".hydra" / "config.yaml").exists():
        from omegaconf import OmegaConf
        cfg = OmegaConf.to_container(OmegaConf.load(run.run_dir / ".hydra" / "config.yaml"), resolve=False)
    wb = ((cfg.get("logger") or {}).get("wandb") or {})
    group = wb.get("group")
    if not isinstance(group, str) or "${" in group:   # the evolution's own group (genesys.evolution.tracking)
        group = group_name(run.run_dir) if run.run_dir is not None else run.title
    return {"project": wb.get("project") or "genesys", "entity": wb.get("entity"), "group": group}


def log_evolution(run, metrics: dict, save_dir: Path, mode: Optional[str] = None) -> str:
    """Log one RunData's evolution to W&B; returns the W&B run's folder."""
    import wandb
    target = wandb_target(run)
    run_id = "evolution-" + hashlib.sha1(run.store_url.encode()).hexdigest()[:10]
    save_dir = Path(save_dir)
    save_dir.mkdir(parents=True, exist_ok=True)
    wb = wandb.init(project=target["project"], entity=target["entity"], group=target["group"], job_type="evolution",
                    name=f"evolution {run.title}", id=run_id, dir=str(save_dir), mode=wandb_mode(mode),
                    resume="allow", config={"top": metrics["parameters"]["top"],
                                            "every": metrics["parameters"]["every"],
                                            "fitness": metrics["parameters"]["fitness"], "rungs": run.view.rungs})
    try:
        for point, online in zip(metrics["curve"], metrics["curve_online"] + [None] * len(metrics["curve"])):
            row = {"designs": point["t"], "population_fitness": point["value"]}
            if online is not None and online["t"] == point["t"]:
                row["population_fitness_online"] = online["value"]
            wb.log(row)
        done = Counter(v.rung for v in run.verifications if v.status == "done" and v.seed == 0)
        wb.summary.update({f"verified/{r}": done.get(r, 0) for r in run.view.rungs})
        wb.summary.update({f"curve/{k}": v for k, v in metrics["metrics"].items() if v is not None})
        if metrics["error_rate"]["rate"] is not None:
            wb.summary["error_rate"] = metrics["error_rate"]["rate"]
        wb.log({"leaderboard": leaderboard_table(run.leaderboard)})
        return str(Path(wb.dir).parent)
    finally:
        wb.finish()
