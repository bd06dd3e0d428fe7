"""Build (or reuse) the packed corpus for a data config: split, overlap removal, tokenizer, token shards.

Everything lands in `cache_dir("data")/<name>-<key>/`, where key hashes the inputs' content and every setting
that changes the result, so a second run starts instantly and a changed setting rebuilds. A file lock makes
concurrent jobs (a multirun sweep) build once and share.
"""
from __future__ import annotations

import hashlib
import json
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, NamedTuple

import datasets
import numpy as np
from filelock import FileLock
from omegaconf import DictConfig, OmegaConf
from transformers import PreTrainedTokenizerFast

from genesys import paths
from genesys.verify import tokenizer as toks
from genesys.verify.data import pack, sources, split

log = logging.getLogger(__name__)
SPLITS = ("train", "validation", "test")
FORMAT_VERSION = 1
# Settings that change the prepared data (anything else in the config, like num_proc, does not).
KEY_FIELDS = ("source", "exclude", "files", "hf", "text_field", "max_documents", "validation_fraction",
              "test_fraction", "split_seed", "overlap_ngram", "tokenizer")


class HeldOut(NamedTuple):
    """What the evaluation engine needs: the tokenizer and the raw held-out documents (after overlap removal)."""
    tokenizer: PreTrainedTokenizerFast
    validation: List[str]
    test: List[str]


@dataclass
class PreparedData:
    """A prepared corpus on disk: tokenizer, packed splits and their statistics (meta.json)."""
    folder: Path
    meta: dict

    @property
    def tokenizer(self) -> PreTrainedTokenizerFast:
        return toks.load_saved(self.folder / "tokenizer")

    @property
    def vocab_size(self) -> int:
        return self.meta["vocab_size"]

    def tokens(self, split_name: str) -> np.memmap:
        return pack.open_tokens(self.folder / f"{split_name}.bin", self.vocab_size, self.meta[split_name]["tokens"])

    def doc_offsets(self, split_name: str) -> np.ndarray:
        return np.load(pack.index_path(self.folder / f"{split_name}.bin"))

    def documents(self, split_name: str) -> List[str]:
        """The raw documents of a split (held-out splits are stored as text for evaluation)."""
        return datasets.load_from_disk(str(self.folder / "docs" / split_name))["text"]

    def bytes_per_token(self, split_name: str) -> float:
        return self.meta[split_name]["bytes"] / max(1, self.meta[split_name]["tokens"])


def cache_key(cfg: DictConfig, content: str) -> str:
    settings = {k: OmegaConf.to_container(cfg[k], resolve=True) if OmegaConf.is_config(cfg.get(k)) else cfg.get(k)
                for k in KEY_FIELDS}
    blob = json.dumps({"v": FORMAT_VERSION, "content": content, "settings": settings}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def prepare_data(cfg: DictConfig) -> PreparedData:
    """The prepared corpus for a data config (`conf/data/*.yaml`), built on first use and cached."""
    docs = None if cfg.source in ("stdlib", "files") else sources.load_source(cfg)
    key = cache_key(cfg, sources.fingerprint(cfg, docs))
    folder = paths.cache_dir("data") / f"{cfg.name}-{key}"
    with FileLock(str(folder) + ".lock"):
        if not (folder / "meta.json").exists():
            _build(cfg, docs if docs is not None else sources.load_source(cfg), folder)
        else:
            log.info("data cache hit: %s", folder)
    return PreparedData(folder, json.loads((folder / "meta.json").read_text()))


def heldout_documents(cfg: DictConfig) -> HeldOut:
    """Tokenizer plus the raw validation and test documents of a data config (after overlap removal).

    Contract for the evaluation engine, which builds local lm-eval tasks from these documents:
    `tokenizer, validation, test = heldout_documents(cfg.data)`.
    """
    data = prepare_data(cfg)
    return HeldOut(data.tokenizer, list(data.documents("validation")), list(data.documents("test")))


def _split(cfg: DictConfig, docs: Dict[str, datasets.Dataset]) -> Dict[str, datasets.Dataset]:
    train = docs["train"]
    if cfg.get("max_documents"):
        train = train.select(range(min(len(train), int(cfg.max_documents))))
    if "validation" in docs and "test" in docs:
        return {"train": train, "validation": docs["validation"], "test": docs["test"]}
    idx = split.split_indices(len(train), cfg.validation_fraction, cfg.test_fraction, cfg.split_seed)
    return {name: train.select(idx[name]) for name in SPLITS}


def _remove_overlap(splits: Dict[str, datasets.Dataset], n: int, num_proc: int) -> tuple:
    heldout = split.heldout_ngrams(list(splits["validation"]["text"]) + list(splits["test"]["text"]), n)
    train = splits["train"]
    procs = max(1, min(num_proc, len(train) // 64))
    kept = train.filter(lambda batch: split.keep_mask(batch, heldout, n), input_columns="text", batched=True,
                        num_proc=procs if procs > 1 else None, keep_in_memory=True, desc="overlap")
    return kept, len(train) - len(kept)


def _build(cfg: DictConfig, docs: Dict[str, datasets.Dataset], folder: Path) -> None:
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    datasets.disable_progress_bars()
    splits = _split(cfg, docs)
    removed = 0
    if cfg.overlap_ngram:
        splits["train"], removed = _remove_overlap(splits, int(cfg.overlap_ngram), int(cfg.num_proc))
        log.info("overlap removal dropped %d training documents", removed)
    tok = _tokenizer(cfg, splits["train"])
    toks.save(tok, tmp / "tokenizer")
    vocab = len(tok)
    meta = {"name": cfg.name, "vocab_size": vocab, "eos_id": tok.eos_token_id, "dtype": str(pack.token_dtype(vocab)),
            "overlap_removed_docs": removed, "config": OmegaConf.to_container(cfg, resolve=True)}
    for name in SPLITS:
        splits[name].save_to_disk(str(tmp / "docs" / name))
        tokenized = pack.tokenize(splits[name], tok, int(cfg.num_proc))
        n_tokens, n_bytes = pack.pack(tokenized, tmp / f"{name}.bin", vocab)
        meta[name] = {"documents": len(splits[name]), "tokens": n_tokens, "bytes": n_bytes}
    train_tokens = pack.open_tokens(tmp / "train.bin", vocab, meta["train"]["tokens"])
    val_tokens = pack.open_tokens(tmp / "validation.bin", vocab, meta["validation"]["tokens"])
    meta["unigram_val_loss"] = pack.unigram_loss(train_tokens, val_tokens, vocab)
    (tmp / "meta.json").write_text(json.dumps(meta, indent=2))
    shutil.rmtree(folder, ignore_errors=True)
    tmp.rename(folder)


def _tokenizer(cfg: DictConfig, train: datasets.Dataset) -> PreTrainedTokenizerFast:
    """The named tokenizer, or a byte-level BPE trained on the train split (a random sample of train_bytes if set)."""
    if cfg.tokenizer.get("name"):
        return toks.load_pretrained(cfg.tokenizer.name)
    budget = cfg.tokenizer.get("train_bytes")

    def texts():
        used = 0
        for row in train.shuffle(seed=int(cfg.split_seed)):
            yield row["text"]
            used += len(row["text"])
            if budget and used >= budget:
                return

    return toks.train_bpe(texts(), int(cfg.tokenizer.vocab_size))
