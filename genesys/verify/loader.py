"""Datasets over packed token arrays: training windows in a seeded order that resumes exactly, and
fixed evaluation windows."""
from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset


class TrainWindows(Dataset):
    """Sample i of the run = a context-length window of the training tokens.

    Windows are the non-overlapping chunks of the packed stream (documents separated by EOS), visited in a
    fresh seeded permutation each pass. Sample i is a pure function of (seed, i), so a resumed run asks for
    samples [start, total) and sees exactly the data the uninterrupted run would have seen.
    """

    def __init__(self, tokens: np.ndarray, context: int, total_samples: int, start: int = 0, seed: int = 0):
        self.tokens, self.context, self.seed = tokens, context, seed
        self.n_chunks = (len(tokens) - 1) // context
        if self.n_chunks < 1:
            raise ValueError(f"{len(tokens)} training tokens are fewer than one context of {context}")
        self.start, self.total = start, total_samples
        self._perms: dict = {}

    def __len__(self) -> int:
        return max(0, self.total - self.start)

    def chunk(self, sample: int) -> int:
        epoch, j = divmod(sample, self.n_chunks)
        if epoch not in self._perms:
            self._perms = {epoch: np.random.default_rng([self.seed, epoch]).permutation(self.n_chunks)}
        return int(self._perms[epoch][j])

    def __getitem__(self, i: int) -> torch.Tensor:
        c = self.chunk(self.start + i) * self.context
        return torch.from_numpy(self.tokens[c:c + self.context].astype(np.int64))


class EvalWindows(Dataset):
    """Consecutive non-overlapping windows of a held-out split (at most max_windows of them)."""

    def __init__(self, tokens: np.ndarray, context: int, max_windows: int | None = None):
        self.tokens, self.context = tokens, context
        n = len(tokens) // context
        self.n = min(n, max_windows) if max_windows else n
        if self.n < 1:
            raise ValueError(f"{len(tokens)} held-out tokens are fewer than one context of {context}")

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> torch.Tensor:
        return torch.from_numpy(self.tokens[i * self.context:(i + 1) * self.context].astype(np.int64))
