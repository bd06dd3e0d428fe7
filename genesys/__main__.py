"""`python -m genesys`: the evolution (conf/config.yaml; `+experiment=...` for the presets and ablations)."""
from __future__ import annotations

import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

import genesys.config  # noqa: F401  (registers ${genesys_*:} before the config is composed)
from genesys.paths import CONF_DIR

LLM_MISSING = ("The LLM designer (genesys.agents: proposer, reviewer, planner, coder, observer) is not implemented "
               "yet, so designer=llm (used by +experiment=full) cannot run. Run `python -m genesys` for the offline "
               "evolution with the symbolic designer, or add `designer=symbolic` to keep the rest of this setup.")


@hydra.main(config_path=str(CONF_DIR), config_name="config", version_base=None)
def app(cfg: DictConfig) -> None:
    from rich.console import Console

    console = Console(width=None if Console().is_terminal else 160)
    if cfg.designer.get("kind") == "llm" and not cfg.designer.get("_target_"):
        console.print(f"[red]{LLM_MISSING}[/red]")
        sys.exit(2)
    from genesys.evolution.orchestrator import run_evolution   # heavy imports after the fast checks
    from genesys.evolution.settings import settings_from_cfg
    hydra_cfg = HydraConfig.get()
    run_dir = Path(hydra_cfg.runtime.output_dir)
    settings = settings_from_cfg(cfg, run_dir, dict(hydra_cfg.runtime.choices), list(hydra_cfg.overrides.task))
    resumed = (run_dir / "evolution.db").exists()
    console.print(f"[b]Genesys evolution[/b] ({'resuming' if resumed else 'new run'}) -> {run_dir}\n"
                  f"designers {settings.designers}, verifiers {settings.verifiers}, rungs {settings.rungs}, "
                  f"stop after {settings.stop_designs} new designs")
    run_evolution(settings, console)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
