"""Offline lm-eval tasks: deterministic files, correct answers, documented baselines that an untrained model hits."""
import json
import math
import re

import pytest
import torch
import yaml

from genesys.evaluate.adapter import GenesysEvalLM
from genesys.evaluate.harness import run_local
from genesys.evaluate.local_tasks import IDENT, LocalTaskSettings, build_local_tasks
from genesys.gau import GenesysLM, load_design
from genesys.paths import SEEDS_DIR

SMALL = LocalTaskSettings(n_examples=80, n_docs=4, max_doc_chars=1500)


@pytest.fixture(scope="module")
def built(tmp_path_factory, corpus, tokenizer):
    out = tmp_path_factory.mktemp("tasks")
    return out, build_local_tasks(corpus[1], out, tokenizer, SMALL)


def test_generation_is_deterministic_with_absolute_paths(built, tmp_path, corpus, tokenizer):
    first_dir, first = built
    second = build_local_tasks(corpus[1], tmp_path, tokenizer, SMALL)
    assert first == second
    for name in first:
        assert (first_dir / f"{name}.jsonl").read_bytes() == (tmp_path / f"{name}.jsonl").read_bytes()
        a = (first_dir / f"{name}.yaml").read_text().replace(str(first_dir.resolve()), "DIR")
        b = (tmp_path / f"{name}.yaml").read_text().replace(str(tmp_path.resolve()), "DIR")
        assert a == b
        data_file = yaml.safe_load(b.replace("DIR", str(tmp_path)))["dataset_kwargs"]["data_files"]["test"]
        assert data_file.startswith("/") and data_file.endswith(f"{name}.jsonl")


def test_answers_are_right_and_baselines_documented(built, corpus, tokenizer):
    out, manifest = built
    docs = corpus[1]
    assert manifest["genesys_next_line"]["random_baseline"] == manifest["genesys_identifier"]["random_baseline"] == 0.25
    for name in ("genesys_next_line", "genesys_identifier"):
        rows = [json.loads(line) for line in (out / f"{name}.jsonl").read_text().splitlines()]
        assert len(rows) == manifest[name]["n"] == SMALL.n_examples
        labels = [r["label"] for r in rows]
        assert set(labels) == {0, 1, 2, 3}  # the answer's position is spread over the choices
        for r in rows:
            answer = r["choices"][r["label"]]
            assert len(set(r["choices"])) == 4
            source = [d for d in docs if r["context"] + answer in d]
            assert source, "the answer is the true continuation of the context"
            for wrong in r["choices"]:
                if wrong != answer and name == "genesys_identifier":
                    assert not re.search(rf"\b{wrong}\b", source[0]), "distractors come from other documents"
            if name == "genesys_identifier":
                assert answer in IDENT.findall(r["context"]), "the answer was seen earlier in the context"
    held = [json.loads(line)["text"] for line in (out / "genesys_heldout.jsonl").read_text().splitlines()]
    n_tok = sum(len(tokenizer.encode(t)) for t in held)
    n_bytes = sum(len(t.encode()) for t in held)
    assert manifest["genesys_heldout"]["random_baseline"] == pytest.approx(n_tok * math.log2(len(tokenizer)) / n_bytes,
                                                                           abs=1e-5)


def test_untrained_model_scores_near_random_baseline(built, tokenizer):
    out, manifest = built
    torch.manual_seed(0)
    lm = GenesysLM.from_design(load_design(SEEDS_DIR / "gpt2"), d_model=32, n_block=1, vocab_size=len(tokenizer))
    table = run_local(GenesysEvalLM(model=lm, tokenizer=tokenizer, max_length=256, batch_size=64), out)
    assert set(table) == set(manifest)
    held = table["genesys_heldout"]
    assert held["bits_per_byte"] == pytest.approx(held["random_baseline"], rel=0.02)
    for name in ("genesys_next_line", "genesys_identifier"):
        assert abs(table[name]["acc"] - 0.25) < 0.13, table[name]  # 80 examples: about 2.7 standard errors
        assert table[name]["random_baseline"] == 0.25 and table[name]["higher_is_better"] is True
