"""Loggers for a verification run: a CSV log always, and one W&B run per (design, scale).

W&B runs offline unless the user has a key (WANDB_API_KEY) or asks for a mode explicitly, so nothing needs
network by default; `wandb sync <run dir>/wandb/offline-run-*` uploads an offline run later.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, List, Optional

if TYPE_CHECKING:   # Lightning is imported where loggers are built: the evolution's workers and orchestrator use
    from lightning.pytorch.loggers import Logger, WandbLogger   # wandb_mode only (~3 s of each process's start)


def wandb_mode(requested: Optional[str]) -> str:
    """'auto' (or None) -> online with a key in the environment, offline otherwise; else as requested."""
    if requested in (None, "auto"):
        if os.environ.get("WANDB_MODE"):
            return os.environ["WANDB_MODE"]
        return "online" if os.environ.get("WANDB_API_KEY") else "offline"
    return requested


def run_id(design: str, scale: str, run_dir: Path) -> str:
    """Stable id: the same (design, scale, run folder) resumes the same W&B run after a restart."""
    digest = hashlib.sha1(f"{design}|{scale}|{Path(run_dir).resolve()}".encode()).hexdigest()[:8]
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in f"{design}-{scale}")
    return f"{safe}-{digest}"


def own_wandb_service() -> None:
    """Start this run's own W&B service rather than join the parent's (wandb passes it down in WANDB_SERVICE).

    A run killed while attached to a shared service leaves its id registered there, and the rerun that should resume
    it is refused ("run ID ... is in use") for as long as the parent lives; a service of our own dies with us.
    """
    os.environ.pop("WANDB_SERVICE", None)


def build_loggers(cfg, run_dir: Path, design: str, scale: str) -> List[Logger]:
    """CSVLogger under <run_dir>/csv, plus a WandbLogger under <run_dir>/wandb when cfg.wandb.enabled."""
    from lightning.pytorch.loggers import CSVLogger, WandbLogger
    loggers: List[Logger] = [CSVLogger(save_dir=str(run_dir), name="csv", version="")]
    if cfg.wandb.enabled:
        own_wandb_service()
        mode = wandb_mode(cfg.wandb.get("mode"))
        loggers.append(WandbLogger(project=cfg.wandb.project, entity=cfg.wandb.get("entity"),
                                   group=cfg.wandb.get("group") or design, name=f"{design}@{scale}",
                                   id=run_id(design, scale, run_dir), save_dir=str(run_dir), mode=mode,
                                   resume="allow", tags=[design, scale], job_type="verify"))
    return loggers


def wandb_logger(loggers: List[Logger]) -> Optional[WandbLogger]:
    from lightning.pytorch.loggers import WandbLogger
    return next((lg for lg in loggers if isinstance(lg, WandbLogger)), None)


def wandb_run_dir(loggers: List[Logger]) -> Optional[str]:
    wb = wandb_logger(loggers)
    return str(Path(wb.experiment.dir).parent) if wb is not None else None


def wandb_run_id(loggers: List[Logger]) -> Optional[str]:
    wb = wandb_logger(loggers)
    return wb.experiment.id if wb is not None else None


def finish(loggers: List[Logger], summary: dict) -> None:
    """Write the record's numbers into the W&B run summary and close it (flushes the offline run files)."""
    wb = wandb_logger(loggers)
    if wb is None:
        return
    for key, value in summary.items():
        wb.experiment.summary[key] = value
    wb.experiment.finish()
