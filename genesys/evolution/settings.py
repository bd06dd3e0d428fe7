"""The evolution's settings as one plain, picklable record: what the orchestrator hands each worker process
(a submitit job), built once from the composed Hydra config so workers never re-read YAML."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

from omegaconf import DictConfig, OmegaConf

from genesys.evolution.tracking import group_name
from genesys.verify.job import PROXY_RUNG

# conf groups of the main config that the verify config shares: their choices (and dotted overrides) are passed on
# to every verification child, so `python -m genesys data=files eval.limit=50` reaches the training runs. The eval
# choice is per rung (the proxy rung runs eval=proxy, the LM rungs the ladder's lm_eval), so it travels apart.
SHARED_GROUPS = ("data", "eval", "hardware", "logger")


def forwarded_overrides(choices: Dict[str, str], task_overrides: List[str]) -> List[str]:
    """The group choices (but eval's) and the user's dotted overrides of the shared groups, as `++key=value`: the
    parent's own composition already validated them against the same groups, and `++` lets an override of, say,
    eval.proxy reach a child whose eval config is another option (it merges instead of failing)."""
    out = [f"{g}={choices[g]}" for g in SHARED_GROUPS if g != "eval" and choices.get(g)]
    for o in task_overrides:
        key = o.split("=")[0]
        if key.lstrip("+~").split(".")[0] in SHARED_GROUPS and "." in key:
            out.append(o if key.startswith("~") else "++" + o.lstrip("+"))
    return out


def derive_seed(*parts) -> int:
    """One seed per (run seed, worker, item): reproducible, independent streams, never the clock."""
    return int.from_bytes(hashlib.sha256("|".join(map(str, parts)).encode()).digest()[:8], "big") >> 1


@dataclass(frozen=True)
class EvolutionSettings:
    run_dir: Path
    store_url: str
    seed: int
    rungs: List[str]                         # cheapest first; "proxy" is rung 0 when the ladder has it
    budget: Dict[str, int]                   # total verifications per rung
    release: Dict[str, float]                # a rung's budget is released at this ratio of the rung below's done work
    points: Dict[str, float]                 # confidence points per verified rung
    seeds: List[str]                         # seed design folders (relative to the repository or absolute)
    stop_designs: Optional[int]              # new designs to implement (seeds not counted); None: no limit
    stop_wall_time_s: Optional[float]
    noise_designs: List[str]                 # seed names verified with extra seeds ...
    noise_seeds: List[int]                   # ... these ...
    noise_rungs: List[str]                   # ... at these rungs, to measure each rung's noise
    verify_timeout_s: float
    lease_s: float
    heartbeat_s: float
    verify_threads: Optional[int]
    verify_preload: bool
    verify_overrides: List[str]              # for every verification child (shared groups + user's list)
    lm_eval: Optional[str]                   # eval config of the LM rungs (None: the main config's `eval` choice)
    lm_eval_overrides: List[str]
    designers: int
    verifiers: int
    designer: dict                           # the designer's Hydra node (`_target_` ...)
    max_attempts: int
    selection: dict                          # probabilities, thresholds, fitness method, wo_exp ...
    base: bool = False                       # `base` ablation: parents and library only from the seeds
    memory: bool = False                     # `w_mem`: designers see what earlier attempts of each operator gave
    poll_s: float = 1.0
    launcher: Optional[dict] = None          # the launcher node: kind (local | slurm), SLURM parameters ...
    wandb: Optional[dict] = None             # logger.wandb of the main config: the evolution's own W&B run
    owner_timeout_s: Optional[float] = None  # workers stop when the orchestrator was not seen for this long
    owner_pid: Optional[int] = None          # local workers stop when this process (the orchestrator) is gone
    min_free_mb: float = 256.0               # free space the run folder needs before (and after) a verification
    run_token: str = ""                      # per orchestrator start: worker names are unique across reruns; a
                                             # newer orchestrator's token tells older workers to stop
    replicates: Dict[str, int] = field(default_factory=dict)   # training seeds 0..k-1 per design at a rung (absent:
                                             # 1); scoring averages them, the budget counts the design once

    @property
    def lm_rungs(self) -> List[str]:
        return [r for r in self.rungs if r != PROXY_RUNG]


def _container(node) -> dict:
    return OmegaConf.to_container(node, resolve=True) if node is not None else {}


def settings_from_cfg(cfg: DictConfig, run_dir: Path, choices: Dict[str, str], task_overrides: List[str]) -> EvolutionSettings:
    """Flatten the composed config; `choices`/`task_overrides` come from HydraConfig (what the user picked)."""
    run_dir = Path(run_dir).resolve()
    forwarded = forwarded_overrides(choices, task_overrides)
    wandb = _container(cfg.logger.get("wandb")) if cfg.get("logger") else None
    if wandb and wandb.get("enabled"):    # one evolution = one W&B group: its verification runs join it
        wandb.setdefault("group", None)
        wandb["group"] = wandb["group"] or group_name(run_dir)
        forwarded.append(f"++logger.wandb.group={wandb['group']}")
    ladder = cfg.ladder
    rungs = ([PROXY_RUNG] if ladder.get("proxy_rung") else []) + list(ladder.scales)
    store_url = cfg.store.url or f"sqlite:///{run_dir / 'evolution.db'}"
    return EvolutionSettings(
        run_dir=run_dir, store_url=store_url, seed=int(cfg.seed), rungs=rungs,
        budget={r: int(v) for r, v in _container(ladder.budget.total).items() if r in rungs},
        release={r: float(v) for r, v in _container(ladder.budget.release).items() if r in rungs},
        points={r: float(v) for r, v in _container(ladder.points).items() if r in rungs},
        seeds=list(cfg.seeds), stop_designs=cfg.stop.designs, stop_wall_time_s=cfg.stop.wall_time_s,
        noise_designs=list(cfg.noise.designs), noise_seeds=list(cfg.noise.seeds),
        noise_rungs=[r for r in cfg.noise.rungs if r in rungs],
        verify_timeout_s=float(cfg.verify.timeout_s), lease_s=float(cfg.verify.lease_s),
        heartbeat_s=float(cfg.verify.heartbeat_s), verify_threads=cfg.verify.threads,
        verify_preload=bool(cfg.verify.get("preload", True)),
        verify_overrides=forwarded + list(cfg.verify.overrides),
        lm_eval=ladder.get("lm_eval") or choices.get("eval"),
        lm_eval_overrides=list(ladder.get("lm_eval_overrides") or []),
        designers=int(cfg.launcher.designers), verifiers=int(cfg.launcher.verifiers),
        designer=_container(cfg.designer), max_attempts=int(cfg.designer.get("max_attempts", 8)),
        selection=_container(cfg.selection), base=bool(cfg.selection.get("base", False)),
        memory=bool(cfg.selection.get("memory", False)), poll_s=float(cfg.launcher.get("poll_s", 1.0)),
        launcher=_container(cfg.launcher), owner_timeout_s=cfg.launcher.get("owner_timeout_s"), wandb=wandb,
        min_free_mb=float(cfg.verify.get("min_free_mb", 256)),
        replicates={r: int(k) for r, k in _container(ladder.get("replicates")).items() if r in rungs})
