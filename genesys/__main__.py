"""`python -m genesys`: the offline quickstart (see conf/config.yaml)."""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

import genesys.config  # noqa: F401  (registers ${genesys_*:} before the config is composed)
from genesys.paths import CONF_DIR


@hydra.main(config_path=str(CONF_DIR), config_name="config", version_base=None)
def app(cfg: DictConfig) -> None:
    from rich.console import Console

    from genesys.quickstart import run, summary_table

    console = Console(width=None if Console().is_terminal else 160)
    out_dir = Path(HydraConfig.get().runtime.output_dir)
    console.print(f"[b]Genesys quickstart[/b] -> {out_dir}\n{OmegaConf.to_yaml(cfg)}")
    choices = HydraConfig.get().runtime.choices  # the scale / eval config names, passed on to each verification
    results = run(cfg, choices["scale"], choices["eval"], out_dir, console)
    (out_dir / "results.json").write_text(json.dumps([asdict(r) for r in results], indent=2, default=str))
    console.print(summary_table(results, choices["scale"]))
    console.print(f"results: {out_dir / 'results.json'}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
