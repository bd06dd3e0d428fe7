"""A tiny evolution for the tests: two seeds, a tiny LM rung and a one-task proxy rung, on a small corpus — the
whole loop (designer with the real checker, verifier children, store, selection) in a minute or two on a CPU."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.verify.verify_helpers import CORPUS_FILES, STDLIB, TINY_SCALE

from genesys.paths import REPO_ROOT


def make_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for rel in CORPUS_FILES:
        (folder / rel.replace("/", "_")).write_text((STDLIB / rel).read_text())
    return folder


def tiny_overrides(run_dir: Path, corpus: Path, designs: int = 2, *extra: str,
                   budget: str = "{proxy:20,cpu_xs:20,cpu_s:0,cpu_m:0}") -> list:
    verify = ",".join(f"'{o}'" for o in TINY_SCALE + ["train.val_windows=8", "logger=csv", "train.progress_bar=false",
                                    "monitor.time_tolerance=1000"])
    return [
        f"hydra.run.dir={run_dir}", "seeds=[seeds/gpt2,seeds/retnet]", f"stop.designs={designs}",
        "stop.wall_time_s=900", "launcher.designers=1", "launcher.verifiers=2", "launcher.poll_s=0.5",
        f"ladder.budget.total={budget}", "ladder.lm_eval=none",
        "noise.designs=[gpt2]", "noise.seeds=[1]", "noise.rungs=[proxy,cpu_xs]",
        "data=files", f"data.files=[{corpus}]", "data.validation_fraction=0.1", "data.test_fraction=0.1",
        "data.tokenizer.vocab_size=320", "data.num_proc=1", "hardware=cpu",
        "eval.proxy.tasks=[compression]", "eval.proxy.steps.compression=60", "eval.proxy.workers=1",
        "eval.proxy.train.d_model=32", "eval.proxy.train.n_test=32",
        f"verify.overrides=[{verify}]", "verify.lease_s=60", "verify.heartbeat_s=5", *extra]


def run_genesys(overrides: list, timeout: float = 900, env: dict | None = None, **popen) -> subprocess.Popen:
    env = {**(env or os.environ), "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.Popen([sys.executable, "-m", "genesys", *overrides], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, **popen)
