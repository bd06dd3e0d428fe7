"""Pure logic for held-out splits: which documents go where, and which training documents overlap held-out text.

Splitting is by document (a document never straddles two splits). Overlap removal follows the usual
contamination rule (GPT-3 style): a training document is dropped if it shares any verbatim run of `n`
whitespace-separated words with a validation or test document.
"""
from __future__ import annotations

import hashlib
from typing import Dict, Iterable, List, Sequence, Set

import numpy as np


def split_indices(n_docs: int, validation: float, test: float, seed: int = 0) -> Dict[str, np.ndarray]:
    """Assign document indices to train / validation / test (sorted within each split, disjoint, complete).

    Each held-out split gets round(fraction * n_docs) documents, at least one when its fraction is > 0 and
    there are enough documents to leave one for training.
    """
    if validation < 0 or test < 0 or validation + test >= 1:
        raise ValueError(f"held-out fractions must be >= 0 and sum below 1, got {validation} + {test}")
    order = np.random.default_rng(seed).permutation(n_docs)

    def count(fraction: float) -> int:
        return 0 if fraction == 0 else max(1, int(round(fraction * n_docs)))

    n_val, n_test = count(validation), count(test)
    if n_val + n_test >= n_docs:
        raise ValueError(f"{n_docs} documents are too few for {n_val} validation + {n_test} test documents")
    return {
        "validation": np.sort(order[:n_val]),
        "test": np.sort(order[n_val:n_val + n_test]),
        "train": np.sort(order[n_val + n_test:]),
    }


def ngram_hashes(text: str, n: int) -> Set[bytes]:
    """8-byte hashes of every run of n consecutive whitespace-separated words (the whole text if shorter)."""
    words = text.split()
    if not words:
        return set()
    if len(words) < n:
        return {_hash(words)}
    return {_hash(words[i:i + n]) for i in range(len(words) - n + 1)}


def heldout_ngrams(documents: Iterable[str], n: int) -> Set[bytes]:
    out: Set[bytes] = set()
    for doc in documents:
        out |= ngram_hashes(doc, n)
    return out


def overlaps(text: str, heldout: Set[bytes], n: int) -> bool:
    """True if `text` shares a verbatim n-word run with the held-out set (short texts: the whole text)."""
    words = text.split()
    if not words:
        return False
    if len(words) < n:
        return _hash(words) in heldout
    return any(_hash(words[i:i + n]) in heldout for i in range(len(words) - n + 1))


def keep_mask(texts: Sequence[str], heldout: Set[bytes], n: int) -> List[bool]:
    """Which training texts survive overlap removal."""
    return [not overlaps(t, heldout, n) for t in texts]


def _hash(words: Sequence[str]) -> bytes:
    return hashlib.blake2b("\x00".join(words).encode("utf-8", "surrogatepass"), digest_size=8).digest()
