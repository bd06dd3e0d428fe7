"""OmegaConf resolvers used by the verify configs (registered on import; idempotent)."""
from __future__ import annotations

import re

import torch
from omegaconf import OmegaConf

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


register()
