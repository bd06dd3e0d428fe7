"""The main job's fast exits: the paper setup names what is missing instead of starting anything."""
from __future__ import annotations

import subprocess
import sys


def test_full_experiment_stops_at_once_naming_the_missing_llm_designer(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "genesys", "+experiment=full", f"hydra.run.dir={tmp_path / 'run'}"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "LLM designer" in proc.stdout and "not implemented" in proc.stdout
    assert not (tmp_path / "run" / "evolution.db").exists()          # nothing was started
