"""Fixtures for the knowledge-engine tests: offline environment, a temporary cache, one full-library engine per
session (the index build is the slow part, so it happens once)."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
               "WANDB_MODE": "offline", "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session", autouse=True)
def _offline_env(tmp_path_factory):
    from genesys import paths

    old = {k: os.environ.get(k) for k in [*OFFLINE_ENV, "GENESYS_CACHE"]}
    user_embeddings = Path(os.environ.get("GENESYS_CACHE", paths.outputs_dir() / "cache")) / "knowledge" / "embeddings"
    os.environ.update(OFFLINE_ENV)
    os.environ["GENESYS_CACHE"] = str(tmp_path_factory.mktemp("genesys-cache"))
    # Passage embeddings are content-addressed (hash of model + text -> vector), so vectors a developer already
    # computed can seed the temporary cache: the index is still built from scratch, only the encoder is skipped
    # for unchanged passages. A fresh checkout (CI) encodes everything once per session.
    if user_embeddings.is_dir():
        shutil.copytree(user_embeddings, Path(os.environ["GENESYS_CACHE"]) / "knowledge" / "embeddings")
    yield
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="session")
def embedder():
    from genesys.knowledge.embed import load_embedder

    return load_embedder("all-MiniLM-L6-v2", backend="numpy")


@pytest.fixture(scope="session")
def engine(_offline_env):
    """The default offline engine over seeds/library, index built once into the session's temp cache."""
    from genesys.knowledge import KnowledgeEngine

    eng = KnowledgeEngine({"unit_dirs": []})
    eng.library_index()
    return eng


@pytest.fixture(scope="session")
def queries():
    import yaml

    from genesys.knowledge.library import LIBRARY_DIR

    return yaml.safe_load((LIBRARY_DIR / "_queries.yaml").read_text())
