"""The Hydra side of every entry point: the OmegaConf resolvers the configs use (registered on import,
idempotent) and composing a primary config from Python (tests, tools, the orchestrator)."""
from __future__ import annotations

import re
from typing import Sequence

import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import DictConfig, OmegaConf

from genesys import paths


def slug(text: str) -> str:
    """A design path as a folder name: seeds/gpt2 -> seeds-gpt2."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", str(text)).strip("-.") or "design"


def register() -> None:
    resolvers = {
        "genesys_outputs": lambda: str(paths.outputs_dir()),
        "genesys_slug": slug,
        "genesys_accelerator": lambda: "gpu" if torch.cuda.is_available() else "cpu",
        "genesys_precision": lambda: "bf16-mixed" if torch.cuda.is_available() else "32-true",
    }
    for name, fn in resolvers.items():
        if not OmegaConf.has_resolver(name):
            OmegaConf.register_new_resolver(name, fn)


def compose_config(name: str, overrides: Sequence[str] = (), hydra: bool = False) -> DictConfig:
    """The primary config `conf/<name>.yaml` with Hydra-style overrides, as its entry point would see it
    (`hydra=True` keeps the hydra node, e.g. to read the launcher)."""
    if GlobalHydra.instance().is_initialized():   # inside a Hydra app (same conf/ search path): compose directly
        return compose(config_name=name, overrides=list(overrides), return_hydra_config=hydra)
    with initialize_config_dir(config_dir=str(paths.CONF_DIR), version_base=None):
        return compose(config_name=name, overrides=list(overrides), return_hydra_config=hydra)


register()
