"""`python -m genesys.verify` runs the configured evaluation and stores it on the record (real subprocesses)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "verify"))
from verify_helpers import CORPUS_FILES, STDLIB, TINY_SCALE, data_overrides  # noqa: E402

pytestmark = [pytest.mark.integration, pytest.mark.slow]
SMALL_PROXY = ["eval.proxy.tasks=[mqar,compression]", "eval.proxy.train.steps=5", "eval.proxy.train.d_model=32",
               "eval.proxy.train.n_test=32"]


def _verify(tmp_path, overrides):
    env = {**os.environ, "GENESYS_OUTPUTS": str(tmp_path / "out")}
    cmd = [sys.executable, "-m", "genesys.verify", "design=seeds/gpt2", f"hydra.run.dir={tmp_path / 'run'}",
           "logger=csv", "train.progress_bar=false"] + overrides
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout, json.loads((tmp_path / "run" / "record.json").read_text())


def test_verify_runs_local_tasks_and_proxy(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in CORPUS_FILES:
        (corpus / name.replace("/", "_")).write_text((STDLIB / name).read_text())
    stdout, record = _verify(tmp_path, data_overrides(corpus) + TINY_SCALE + [
        "train.max_steps=4", "eval.local.n_examples=20", "eval.local.n_docs=2"] + SMALL_PROXY)
    local = record["eval"]["local"]
    assert set(local) == {"genesys_heldout", "genesys_next_line", "genesys_identifier"}
    assert local["genesys_next_line"]["random_baseline"] == 0.25 and 0 <= local["genesys_next_line"]["acc"] <= 1
    assert local["genesys_heldout"]["bits_per_byte"] > 0
    assert set(record["eval"]["proxy"]) == {"mqar", "compression"}
    assert "evaluation [local]" in stdout and "genesys_next_line" in stdout


def test_eval_proxy_runs_the_suite_alone(tmp_path):
    stdout, record = _verify(tmp_path, ["eval=proxy"] + SMALL_PROXY)
    assert record["scale"] == "proxy" and record["tokens"] is None  # no LM trained: absent, not 0
    assert record["unigram_val_loss"] is None and record["val_loss"] is None
    assert record["params"]["total"] is None and record["params"]["non_embedding"] > 0
    for row in record["eval"]["proxy"].values():
        assert 0 <= row["accuracy"] <= 1 and row["random_baseline"] > 0
    assert "evaluation [proxy]" in stdout
    assert not (tmp_path / "run" / "checkpoints").exists()  # no LM pre-training happened
