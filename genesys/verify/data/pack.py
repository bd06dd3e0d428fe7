"""Tokenize documents (in parallel) and pack them into one memory-mapped token array per split.

Layout of a split: `<split>.bin` holds every document's tokens followed by EOS, back to back; `<split>.idx.npy`
holds the start offset of each document (plus the total at the end), so documents can be recovered exactly.
"""
from __future__ import annotations

from pathlib import Path
from typing import Tuple

import datasets
import numpy as np
from transformers import PreTrainedTokenizerFast


def token_dtype(vocab_size: int) -> np.dtype:
    """uint16 when every id fits (vocab ≤ 65536), else uint32: half the disk and page cache for small vocabs."""
    return np.dtype(np.uint16) if vocab_size <= 2 ** 16 else np.dtype(np.uint32)


def _encode(batch, tokenizer: PreTrainedTokenizerFast):
    encodings = tokenizer.backend_tokenizer.encode_batch_fast(batch["text"], add_special_tokens=False)
    eos = tokenizer.eos_token_id
    return {"ids": [e.ids + [eos] for e in encodings],
            "n_bytes": [len(t.encode("utf-8")) for t in batch["text"]]}


def tokenize(docs: datasets.Dataset, tokenizer: PreTrainedTokenizerFast, num_proc: int) -> datasets.Dataset:
    """Add `ids` (tokens + EOS) and `n_bytes` (UTF-8 size) per document, using up to num_proc processes."""
    procs = max(1, min(num_proc, len(docs) // 32))
    return docs.map(_encode, batched=True, batch_size=64, num_proc=procs if procs > 1 else None,
                    fn_kwargs={"tokenizer": tokenizer}, desc="tokenize", keep_in_memory=True)


def pack(tokenized: datasets.Dataset, path: Path, vocab_size: int) -> Tuple[int, int]:
    """Write the split to `path` (.bin) and its document offsets (.idx.npy); return (n_tokens, n_bytes)."""
    lengths = np.fromiter((len(x) for x in tokenized["ids"]), dtype=np.int64, count=len(tokenized))
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    total = int(offsets[-1])
    out = np.memmap(path, dtype=token_dtype(vocab_size), mode="w+", shape=(max(total, 1),))
    for i, batch in enumerate(tokenized.iter(batch_size=1024)):
        flat = np.fromiter((t for ids in batch["ids"] for t in ids), dtype=np.int64)
        start = offsets[i * 1024]
        out[start:start + len(flat)] = flat
    out.flush()
    del out
    np.save(index_path(path), offsets)
    return total, int(sum(tokenized["n_bytes"]))


def index_path(bin_path: Path) -> Path:
    return bin_path.with_suffix(".idx.npy")


def open_tokens(path: Path, vocab_size: int, n_tokens: int) -> np.memmap:
    """The packed tokens of a split, read-only and memory-mapped (nothing is loaded until indexed)."""
    return np.memmap(path, dtype=token_dtype(vocab_size), mode="r", shape=(max(n_tokens, 1),))[:n_tokens]


def unigram_loss(train: np.ndarray, heldout: np.ndarray, vocab_size: int) -> float:
    """Cross-entropy (nats/token) of held-out tokens under the add-one-smoothed training unigram distribution.

    The floor any LM must beat: a model that learned nothing beyond token frequencies scores this.
    """
    counts = np.bincount(np.asarray(train), minlength=vocab_size).astype(np.float64) + 1.0
    logp = np.log(counts / counts.sum())
    return float(-logp[np.asarray(heldout)].mean())
