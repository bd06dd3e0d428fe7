"""Data pipeline: splits are by document and exact, EOS sits between documents, overlap is removed,
and the cache hits on a second run and rebuilds when a setting or the content changes."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from omegaconf import OmegaConf
from transformers import PreTrainedTokenizerFast

from genesys.verify.data import heldout_documents, prepare_data
from genesys.verify.data import split as splitting
from genesys.verify.data.pack import token_dtype, unigram_loss
from genesys.verify.data.sources import stdlib_files

from verify_helpers import compose_cfg, data_overrides


def test_split_indices_partition_documents():
    idx = splitting.split_indices(101, 0.1, 0.05, seed=3)
    every = np.concatenate([idx["train"], idx["validation"], idx["test"]])
    assert sorted(every.tolist()) == list(range(101))
    assert len(idx["validation"]) == 10 and len(idx["test"]) == 5
    assert np.array_equal(idx["validation"], splitting.split_indices(101, 0.1, 0.05, seed=3)["validation"])


def test_overlap_detects_verbatim_runs_only():
    held = splitting.heldout_ngrams(["the quick brown fox jumps over the lazy dog today"], n=5)
    assert splitting.overlaps("and then the quick brown fox jumps high", held, 5)
    assert not splitting.overlaps("the quick brown cat jumps over a lazy dog", held, 5)


def test_prepare_packs_exactly(data_cfg):
    data = prepare_data(data_cfg)
    tok = data.tokenizer
    assert isinstance(tok, PreTrainedTokenizerFast) and tok.eos_token is not None
    assert data.tokens("train").dtype == token_dtype(len(tok)) == np.uint16
    seen = []
    for split in ("train", "validation", "test"):
        docs, tokens, offsets = data.documents(split), data.tokens(split), data.doc_offsets(split)
        assert len(offsets) == len(docs) + 1 and offsets[-1] == len(tokens) == data.meta[split]["tokens"]
        # Each document is its tokens followed by exactly one EOS; decoding gives the document back.
        for doc, a, b in zip(docs, offsets[:-1], offsets[1:]):
            ids = tokens[a:b].tolist()
            assert ids[-1] == tok.eos_token_id and tok.eos_token_id not in ids[:-1]
            assert tok.decode(ids[:-1]) == doc
        assert int((tokens == tok.eos_token_id).sum()) == len(docs)
        seen.append(set(docs))
    train, val, test = seen
    assert not (train & val) and not (train & test) and not (val & test)  # no document crosses a split


def test_overlap_removed_from_train(corpus_dir, tmp_path):
    # Duplicate one file under another name: whichever copy lands in a held-out split, the other must not train.
    for f in corpus_dir.iterdir():
        shutil.copy(f, tmp_path / f.name)
        shutil.copy(f, tmp_path / ("copy_" + f.name))
    cfg = compose_cfg(data_overrides(tmp_path) + ["data.overlap_ngram=13"]).data
    data = prepare_data(cfg)
    held = set(data.documents("validation")) | set(data.documents("test"))
    train = data.documents("train")
    assert data.meta["overlap_removed_docs"] >= len(held) - len(set(train) & held) > 0
    grams = splitting.heldout_ngrams(held, 13)
    assert not any(splitting.overlaps(doc, grams, 13) for doc in train)


def test_cache_hits_and_invalidates(data_cfg, corpus_dir, tmp_path):
    first = prepare_data(data_cfg)
    stamp = (first.folder / "meta.json").stat().st_mtime_ns
    again = prepare_data(data_cfg)
    assert again.folder == first.folder and (again.folder / "meta.json").stat().st_mtime_ns == stamp
    changed = OmegaConf.merge(data_cfg, {"tokenizer": {"vocab_size": 300}})
    assert prepare_data(changed).folder != first.folder
    assert prepare_data(changed).vocab_size == 300
    # Changed content, same settings: a new cache entry.
    for f in corpus_dir.iterdir():
        shutil.copy(f, tmp_path / f.name)
    (tmp_path / "extra.py").write_text("x = 1\n" * 50)
    moved = OmegaConf.merge(data_cfg, {"files": [str(tmp_path)]})
    assert prepare_data(moved).folder != first.folder


def test_heldout_contract(data_cfg):
    tok, validation, test = heldout_documents(data_cfg)
    data = prepare_data(data_cfg)
    assert isinstance(tok, PreTrainedTokenizerFast)
    assert validation == data.documents("validation") and test == data.documents("test")
    assert all(isinstance(d, str) and d for d in validation + test)


def test_unigram_baseline_is_entropy_for_matching_distribution():
    rng = np.random.default_rng(0)
    p = np.array([0.5, 0.25, 0.125, 0.125])
    train, val = rng.choice(4, size=200_000, p=p), rng.choice(4, size=200_000, p=p)
    assert abs(unigram_loss(train, val, 4) - float(-(p * np.log(p)).sum())) < 0.01


def test_smollm_loader_on_local_parquet(tmp_path, corpus_dir):
    # Same layout and schema as chengjunyan1/smollm-12.5-corpus: <subset>/{train,eval,test}-*.parquet, `text`.
    texts = [f.read_text() for f in sorted(corpus_dir.iterdir())]
    for subset in ("python-edu", "cosmopedia-v2"):
        (tmp_path / subset).mkdir()
        for split, rows in (("train", texts[:16]), ("eval", texts[16:19]), ("test", texts[19:22])):
            table = pa.table({"text": rows, "subset": [subset] * len(rows)})
            pq.write_table(table, tmp_path / subset / f"{split}-00000-of-00001.parquet")
    cfg = compose_cfg(["data=smollm", f"data.hf.path={tmp_path}", "data.hf.subsets=[python-edu,cosmopedia-v2]",
                       "data.tokenizer.name=null", "data.tokenizer.vocab_size=300", "data.num_proc=1"]).data
    data = prepare_data(cfg)
    assert data.meta["validation"]["documents"] == 6 and data.meta["test"]["documents"] == 6
    assert set(data.documents("validation")) == set(texts[16:19])
    # The eval/test files duplicate each other across subsets, and train shares nothing with them.
    assert data.meta["train"]["documents"] == 32 - data.meta["overlap_removed_docs"]


def test_stdlib_source_is_split_by_file():
    files = stdlib_files(["site-packages", "test", "tests", "idlelib", "turtledemo"])
    assert len(files) > 300 and all(f.suffix == ".py" for f in files)
    assert not any("site-packages" in f.parts for f in files)
