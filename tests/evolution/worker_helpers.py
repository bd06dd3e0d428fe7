"""Verifier workers outside a whole evolution: settings for a tiny LM rung, a store holding chosen designs, and a
worker process started (and killed) like the orchestrator's."""
from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
import time
from pathlib import Path

from genesys.evolution.orchestrator import register_seeds
from genesys.evolution.settings import EvolutionSettings, forwarded_overrides
from genesys.evolution.workers import DESIGNERS_DONE_KEY
from genesys.paths import REPO_ROOT
from tests.verify.verify_helpers import TINY_SCALE

RUNG = "cpu_xs"


def worker_settings(run_dir: Path, store_url: str, corpus: Path, *verify: str, **fields) -> EvolutionSettings:
    """One LM rung run at the tiny scale on `corpus`, no noise repeats, no designers; `fields` override."""
    data = ["data=files", f"data.files=[{corpus}]", "data.validation_fraction=0.1", "data.test_fraction=0.1",
            "data.tokenizer.vocab_size=320", "data.num_proc=1", "hardware=cpu"]
    choices = {"data": "files", "hardware": "cpu"}
    overrides = forwarded_overrides(choices, data[1:]) + TINY_SCALE + [
        "train.val_windows=8", "logger=csv", "train.progress_bar=false", "monitor.time_tolerance=1000", *verify]
    base = dict(run_dir=Path(run_dir).resolve(), store_url=store_url, seed=0, rungs=[RUNG], budget={RUNG: 0},
                release={RUNG: 0.25}, points={RUNG: 1.0}, seeds=[], stop_designs=0, stop_wall_time_s=None,
                noise_designs=[], noise_seeds=[], noise_rungs=[], verify_timeout_s=600.0, lease_s=4.0,
                heartbeat_s=1.0, verify_threads=1, verify_preload=True, verify_overrides=overrides, lm_eval="none",
                lm_eval_overrides=[], designers=0, verifiers=1, designer={}, max_attempts=1, selection={},
                poll_s=0.5, launcher={"kind": "local"}, min_free_mb=1.0, run_token="t")
    base.update(fields)
    return EvolutionSettings(**base)


def store_with(store, designs: list, rung: str = RUNG) -> None:
    """Register design folders (as seeds are: meta path), queue one verification each, and say no designer
    will add more (so a worker ends when the queue is empty)."""
    for name in register_seeds(store, [str(d) for d in designs]):
        store.enqueue(name, rung)
    store.set_state(DESIGNERS_DONE_KEY, True)


def broken_copy(src: Path, dest: Path, name: str, body: str) -> Path:
    """A copy of a design folder named `name` whose root block's forward runs `body` first (e.g. a raise)."""
    shutil.copytree(src, dest)
    meta = dest / "metadata.yaml"
    meta.write_text(meta.read_text().replace("name: gpt2", f"name: {name}", 1))
    unit = dest / "units" / "GPT2Block.py"
    code = unit.read_text()
    assert "    def _forward(self, X, **Z):\n" in code
    unit.write_text("import os\n" + code.replace("    def _forward(self, X, **Z):\n",
                                                 f"    def _forward(self, X, **Z):\n        {body}\n", 1))
    return dest


def start_worker(settings: EvolutionSettings, index: int, folder: Path, env: dict | None = None,
                 kind: str = "verifier") -> subprocess.Popen:
    """`verifier_worker(settings, index)` (or `designer_worker`) in its own process as a submitit job runs it,
    SIGTERM only logged as submitit does, output to a file."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"settings-{index}.pkl").write_bytes(pickle.dumps(settings))
    code = ("import pickle, signal, sys; from genesys.evolution import workers; "
            "signal.signal(signal.SIGTERM, lambda *a: print('bypassing SIGTERM', flush=True)); "
            f"print(workers.{kind}_worker(pickle.load(open(sys.argv[1], 'rb')), int(sys.argv[2])))")
    env = {**(env or os.environ), "PYTHONPATH": str(REPO_ROOT)}
    out = open(folder / f"worker-{index}.log", "w")
    return subprocess.Popen([sys.executable, "-c", code, str(folder / f"settings-{index}.pkl"), str(index)],
                            env=env, stdout=out, stderr=subprocess.STDOUT)


class StuckDesigner:
    """A designer that never finishes a design (to stop a designer worker mid-design)."""

    def design(self, request):
        time.sleep(3600)


def worker_log(folder: Path, index: int) -> str:
    return (folder / f"worker-{index}.log").read_text()
