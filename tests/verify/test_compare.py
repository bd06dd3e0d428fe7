"""`python -m genesys.compare`: the command-line overrides of the scale and eval groups reach each verification."""
from __future__ import annotations

import json
import subprocess
import sys

from verify_helpers import TINY_SCALE, data_overrides

from genesys.compare import forwarded_overrides


def test_only_shared_groups_are_forwarded():
    task = ["designs=[a,b]", "scale=cpu_s", "scale.lr=0.1", "eval=proxy", "eval.proxy.workers=1", "+eval.x=1",
            "run_checker=false", "seed=3", "evaluation=1"]
    assert forwarded_overrides(task) == ["scale=cpu_s", "scale.lr=0.1", "eval=proxy", "eval.proxy.workers=1", "+eval.x=1"]


def test_compare_cli_passes_overrides_to_the_child(corpus_dir, tmp_path):
    verify_overrides = ",".join(f"'{o}'" for o in data_overrides(corpus_dir) + [
        "logger=csv", "hardware=cpu", "train.max_steps=2", "train.val_windows=4", "monitor.time_tolerance=1000"])
    cmd = [sys.executable, "-m", "genesys.compare", "designs=[seeds/gpt2]", "run_checker=false", "eval=none",
           *TINY_SCALE, f"verify_overrides=[{verify_overrides}]", f"hydra.run.dir={tmp_path}"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    (result,) = json.loads((tmp_path / "results.json").read_text())
    assert result["error"] is None, result
    cfg = result["record"]["config"]
    assert cfg["scale"]["name"] == "tiny" and cfg["scale"]["d_model"] == 32      # forwarded scale.* overrides
    assert cfg["eval"]["kind"] == "none" and cfg["train"]["max_steps"] == 2      # eval choice + verify_overrides
