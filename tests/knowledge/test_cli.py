"""The CLI and the Hydra configs."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from hydra import compose, initialize_config_dir

from genesys import paths
from genesys.knowledge import KnowledgeConfig


def test_configs_compose():
    with initialize_config_dir(config_dir=str(paths.CONF_DIR), version_base=None):
        off = compose("search", overrides=["query=x"])
        on = compose("search", overrides=["query=x", "knowledge=online"])
    a, b = KnowledgeConfig.from_any(off.knowledge), KnowledgeConfig.from_any(on.knowledge)
    assert a.mode == "offline" and not a.external.enabled and a.default_sources == ["library"]
    assert b.mode == "online" and b.external.enabled and "arxiv" in b.default_sources
    assert b.embedding_model == a.embedding_model and off.k == 5


def test_cli_prints_ranked_results(engine, tmp_path):
    env = {**os.environ, "GENESYS_OUTPUTS": str(tmp_path)}  # GENESYS_CACHE: the session cache, index built
    out = subprocess.run([sys.executable, "-m", "genesys.knowledge",
                          "query=selective state space model with input-dependent step size", "json=true", "k=3"],
                         capture_output=True, text=True, env=env, cwd=paths.REPO_ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    ids = [r["id"] for r in data["results"]]
    assert ids[0] == "mamba" and "mamba2" in ids and len(ids) == 3
    table = subprocess.run([sys.executable, "-m", "genesys.knowledge", "query=rotary position embedding",
                            "sources=[library]"], capture_output=True, text=True, env=env,
                           cwd=paths.REPO_ROOT, timeout=120)
    assert table.returncode == 0, table.stderr
    assert "[library] rope" in table.stdout and "arxiv.org/abs/2104.09864" in table.stdout


def test_cli_requires_a_query(tmp_path):
    env = {**os.environ, "GENESYS_OUTPUTS": str(tmp_path)}
    out = subprocess.run([sys.executable, "-m", "genesys.knowledge"], capture_output=True, text=True, env=env,
                         cwd=paths.REPO_ROOT, timeout=120)
    assert out.returncode != 0 and "query" in (out.stderr + out.stdout)
