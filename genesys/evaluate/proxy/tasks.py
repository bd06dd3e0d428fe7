"""Synthetic token-manipulation tasks in the spirit of MAD (Poli et al., 2024) and MQAR (Arora et al., 2023).

Every generator is pure and seeded: `make(n, seed)` returns `(inputs, targets)`, two (n, seq_len) int64
tensors; `targets[b, t]` is the token the model must output at position t (-100 where nothing is scored).
Token ids are laid out in disjoint ranges (keys, values, noise, specials) so a label is never ambiguous.
`random_baseline` is the accuracy of guessing uniformly among the tokens that can be right.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Dict, Tuple

import torch

IGNORE = -100
Batch = Tuple[torch.Tensor, torch.Tensor]


def _rng(seed: int) -> random.Random:
    return random.Random(int(seed))


def _fill(rows) -> Batch:
    """(inputs, targets) python lists per example -> two int64 tensors."""
    inputs, targets = zip(*rows)
    return torch.tensor(inputs, dtype=torch.long), torch.tensor(targets, dtype=torch.long)


@dataclass(frozen=True)
class InContextRecall:
    """Key-value pairs with a per-sequence random mapping; keys repeat, and at every repeated key the model
    must output the value it was paired with earlier in the sequence (the induction-head skill)."""
    n_keys: int = 8
    n_values: int = 8
    seq_len: int = 32
    noise: float = 0.0  # probability of a noise token between pairs (noisy recall)
    n_noise: int = 8

    @property
    def vocab_size(self) -> int:
        return self.n_keys + self.n_values + self.n_noise

    @property
    def random_baseline(self) -> float:
        return 1.0 / self.n_values

    def make(self, n: int, seed: int) -> Batch:
        rng, rows = _rng(seed), []
        for _ in range(n):
            mapping = [self.n_keys + rng.randrange(self.n_values) for _ in range(self.n_keys)]
            seq, tgt, seen = [], [], set()
            while len(seq) < self.seq_len:
                if self.noise and rng.random() < self.noise:
                    seq.append(self.n_keys + self.n_values + rng.randrange(self.n_noise))
                    tgt.append(IGNORE)
                    continue
                key = rng.randrange(self.n_keys)
                seq += [key, mapping[key]]
                tgt += [mapping[key] if key in seen else IGNORE, IGNORE]
                seen.add(key)
            rows.append((seq[:self.seq_len], tgt[:self.seq_len]))
        return _fill(rows)


@dataclass(frozen=True)
class FuzzyRecall:
    """Recall where keys and values are multi-token spans (1..max_span tokens): the whole value span must be
    produced after a repeated key span, token by token (teacher-forced)."""
    n_tokens: int = 16          # key tokens and value tokens each come from their own n_tokens ids
    n_pairs: int = 4            # distinct key spans per sequence
    max_span: int = 2
    seq_len: int = 32

    @property
    def vocab_size(self) -> int:
        return 2 * self.n_tokens

    @property
    def random_baseline(self) -> float:
        return 1.0 / self.n_tokens

    def make(self, n: int, seed: int) -> Batch:
        rng, rows = _rng(seed), []
        span = lambda base: tuple(base + rng.randrange(self.n_tokens) for _ in range(rng.randint(1, self.max_span)))
        for _ in range(n):
            keys: list = []
            while len(keys) < self.n_pairs:  # distinct key spans, none a prefix of another
                k = span(0)
                if all(k[:len(o)] != o[:len(k)] for o in keys):
                    keys.append(k)
            values = [span(self.n_tokens) for _ in keys]
            seq, tgt, seen = [], [], set()
            while len(seq) < self.seq_len:
                p = rng.randrange(self.n_pairs)
                k, v = keys[p], values[p]
                seq += k + v
                # the last key token predicts v[0], each value token the next one
                tgt += [IGNORE] * (len(k) - 1) + (list(v) if p in seen else [IGNORE] * len(v)) + [IGNORE]
                seen.add(p)
            rows.append((seq[:self.seq_len], tgt[:self.seq_len]))
        return _fill(rows)


@dataclass(frozen=True)
class SelectiveCopying:
    """Data tokens scattered among blanks; after the copy token the model outputs the data tokens in order."""
    n_data: int = 16
    n_copy: int = 6
    seq_len: int = 32     # including the copy part
    # ids: 0..n_data-1 data, n_data blank, n_data+1 copy token

    @property
    def vocab_size(self) -> int:
        return self.n_data + 2

    @property
    def random_baseline(self) -> float:
        return 1.0 / self.n_data

    def make(self, n: int, seed: int) -> Batch:
        rng, rows = _rng(seed), []
        blank, copy = self.n_data, self.n_data + 1
        span = self.seq_len - self.n_copy - 1
        for _ in range(n):
            pos = sorted(rng.sample(range(span), self.n_copy))
            data = [rng.randrange(self.n_data) for _ in range(self.n_copy)]
            seq = [blank] * span
            for p, d in zip(pos, data):
                seq[p] = d
            rows.append((seq + [copy] + data[:-1], [IGNORE] * span + data))
        return _fill(rows)


@dataclass(frozen=True)
class Compression:
    """A random sequence ends in a compression token; every token must be decoded from the model's state
    at that single position (the suite adds a small decoder: state + position -> token)."""
    n_tokens: int = 16
    seq_len: int = 16     # tokens to compress (+1 for the compression token)

    @property
    def vocab_size(self) -> int:
        return self.n_tokens + 1

    @property
    def random_baseline(self) -> float:
        return 1.0 / self.n_tokens

    def make(self, n: int, seed: int) -> Batch:
        rng = _rng(seed)
        data = torch.tensor([[rng.randrange(self.n_tokens) for _ in range(self.seq_len)] for _ in range(n)])
        inputs = torch.cat([data, torch.full((n, 1), self.n_tokens)], dim=1)
        return inputs, data  # targets: the sequence to reconstruct, decoded from the last position


@dataclass(frozen=True)
class Memorization:
    """A fixed key -> value table (the same for train and test, drawn from `table_seed`): at every key the
    model outputs its value, which it can only know by storing the table in its weights."""
    n_keys: int = 64
    n_values: int = 16
    seq_len: int = 32
    table_seed: int = 1234

    @property
    def vocab_size(self) -> int:
        return self.n_keys + self.n_values

    @property
    def random_baseline(self) -> float:
        return 1.0 / self.n_values

    def make(self, n: int, seed: int) -> Batch:
        rng = _rng(self.table_seed)
        table = torch.tensor([self.n_keys + rng.randrange(self.n_values) for _ in range(self.n_keys)])
        rng = _rng(seed)
        keys = torch.tensor([[rng.randrange(self.n_keys) for _ in range(self.seq_len // 2)] for _ in range(n)])
        inputs = torch.stack([keys, table[keys]], dim=-1).reshape(n, -1)
        targets = torch.stack([table[keys], torch.full_like(keys, IGNORE)], dim=-1).reshape(n, -1)
        return inputs, targets


@dataclass(frozen=True)
class MQAR:
    """Multi-query associative recall: n_pairs distinct keys with values, then queries of those keys in a
    random order; at each queried key the model outputs its value."""
    n_keys: int = 16
    n_values: int = 16
    n_pairs: int = 4
    n_queries: int = 8

    @property
    def seq_len(self) -> int:
        return 2 * (self.n_pairs + self.n_queries)

    @property
    def vocab_size(self) -> int:
        return self.n_keys + self.n_values

    @property
    def random_baseline(self) -> float:
        return 1.0 / self.n_values

    def make(self, n: int, seed: int) -> Batch:
        rng, rows = _rng(seed), []
        for _ in range(n):
            keys = rng.sample(range(self.n_keys), self.n_pairs)
            values = [self.n_keys + rng.randrange(self.n_values) for _ in keys]
            queries = [rng.randrange(self.n_pairs) for _ in range(self.n_queries)]
            seq = [t for k, v in zip(keys, values) for t in (k, v)]
            tgt = [IGNORE] * len(seq)
            for q in queries:
                seq += [keys[q], values[q]]
                tgt += [values[q], IGNORE]
            rows.append((seq, tgt))
        return _fill(rows)


def noisy_recall(**kw) -> InContextRecall:
    return InContextRecall(**{"noise": 0.25, **kw})


TASKS = {
    "in_context_recall": InContextRecall,
    "fuzzy_recall": FuzzyRecall,
    "noisy_recall": noisy_recall,
    "selective_copying": SelectiveCopying,
    "compression": Compression,
    "memorization": Memorization,
    "mqar": MQAR,
}

# Difficulty presets: "easy" (the defaults) is sized for a one-minute CPU run per design; "medium" and
# "hard" approach MAD's settings (longer sequences, more keys) for runs with more steps or a GPU.
DIFFICULTY: Dict[str, Dict[str, dict]] = {
    "easy": {"memorization": {"n_keys": 256}},  # 64 facts saturated for every design, even without mixing
    "hard": {
        "in_context_recall": {"n_keys": 16, "n_values": 16, "seq_len": 128},
        "fuzzy_recall": {"n_pairs": 10, "max_span": 3, "seq_len": 128},
        "noisy_recall": {"n_keys": 16, "n_values": 16, "seq_len": 128},
        "selective_copying": {"n_copy": 16, "seq_len": 128},
        "compression": {"seq_len": 32},
        "memorization": {"n_keys": 1024},
        "mqar": {"n_keys": 64, "n_values": 64, "n_pairs": 16, "n_queries": 16},
    },
    "medium": {
        "in_context_recall": {"seq_len": 64},
        "fuzzy_recall": {"n_pairs": 6, "seq_len": 64},
        "noisy_recall": {"seq_len": 64},
        "selective_copying": {"n_copy": 8, "seq_len": 64},
        "compression": {"seq_len": 24},
        "memorization": {"n_keys": 512},
        "mqar": {"n_keys": 32, "n_values": 32, "n_pairs": 8},
    },
}


def make_task(name: str, difficulty: str = "easy", **overrides):
    """The task generator `name` at a difficulty preset, with explicit parameter overrides on top."""
    return TASKS[name](**{**DIFFICULTY[difficulty].get(name, {}), **overrides})
