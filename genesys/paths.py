"""Where things live on disk: the repository's config and seed folders, and the output/cache folders.

One place so every entry point (CLI, Hydra app, tests, benchmarks) agrees. `GENESYS_OUTPUTS` and
`GENESYS_CACHE` override the output and cache roots (CI and tests point them at temp folders).
"""
from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
CONF_DIR = REPO_ROOT / "conf"
SEEDS_DIR = REPO_ROOT / "seeds"


def seed_names() -> list:
    """The seed design folders shipped in seeds/ (those with a metadata.yaml), sorted."""
    return sorted(p.parent.name for p in SEEDS_DIR.glob("*/metadata.yaml"))


def outputs_dir() -> Path:
    """Root for run directories, the local SQLite store and logs."""
    return Path(os.environ.get("GENESYS_OUTPUTS", REPO_ROOT / "outputs"))


def cache_dir(*parts: str) -> Path:
    """A cache sub-folder (created on demand), e.g. cache_dir("knowledge")."""
    root = Path(os.environ.get("GENESYS_CACHE", outputs_dir() / "cache"))
    path = root.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def resolve_design(design) -> Path:
    """Where a design named on a command line or in a config is: a folder or unit .py file relative to the working
    directory, else to the repository, else a seed's name (`gpt2` -> seeds/gpt2). The one rule of every entry point."""
    path = Path(design).expanduser()
    for candidate in (path, REPO_ROOT / path, SEEDS_DIR / path):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"design not found: {design} (looked in the working directory, {REPO_ROOT} and {SEEDS_DIR})")

