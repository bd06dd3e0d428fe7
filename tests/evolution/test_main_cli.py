"""The main job's fast exits: the paper setup without an LLM provider names the key or api_base to set instead of
starting anything."""
from __future__ import annotations

import os
import subprocess
import sys


def test_full_experiment_without_a_provider_stops_at_once_naming_what_to_set(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "GENESYS_LLM_MODEL")}
    proc = subprocess.run([sys.executable, "-m", "genesys", "+experiment=full", f"hydra.run.dir={tmp_path / 'run'}"],
                          capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "OPENAI_API_KEY" in proc.stderr and "api_base" in proc.stderr, proc.stderr
    assert not (tmp_path / "run" / "evolution.db").exists()          # nothing was started
    local = subprocess.run([sys.executable, "-m", "genesys", "+experiment=full", "agents=anthropic",
                            f"hydra.run.dir={tmp_path / 'run2'}"], capture_output=True, text=True, timeout=120,
                           env={k: v for k, v in env.items() if k != "ANTHROPIC_API_KEY"})
    assert local.returncode == 2 and "ANTHROPIC_API_KEY" in local.stderr
