"""`python -m genesys`: the evolution (conf/config.yaml; `+experiment=...` for the presets and ablations)."""
from __future__ import annotations

import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

import genesys.config  # noqa: F401  (registers ${genesys_*:} before the config is composed)
from genesys.paths import CONF_DIR

NO_PROVIDER = ("The LLM designer (designer=llm, used by +experiment=full) has no model to call: {error}\n"
               "Pick a provider with agents=openai | anthropic | local (conf/agents/), or run `python -m genesys` for "
               "the offline evolution with the symbolic designer.")


def llm_provider_error(cfg: DictConfig):
    """None when every model of the agents config can be called (a key or an api_base), else the reason."""
    from omegaconf import OmegaConf

    from genesys.agents.llm.client import check_provider
    from genesys.agents.llm.config import AgentsConfig
    from genesys.agents.llm.types import LLMUnavailable
    try:
        check_provider(AgentsConfig.from_dict(OmegaConf.to_container(cfg.agents, resolve=True)))
    except LLMUnavailable as exc:
        return str(exc)
    return None


@hydra.main(config_path=str(CONF_DIR), config_name="config", version_base=None)
def app(cfg: DictConfig) -> None:
    from rich.console import Console

    console = Console(width=None if Console().is_terminal else 160)
    if cfg.designer.get("kind") == "llm":
        error = llm_provider_error(cfg)
        if error:
            print(NO_PROVIDER.format(error=error), file=sys.stderr)
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
