"""Rank fusion and result diversity, as pure functions over ids and scores (no I/O, no models)."""
from __future__ import annotations

from typing import Hashable, Sequence, TypeVar

import numpy as np

K = TypeVar("K", bound=Hashable)


def reciprocal_rank_fusion(rankings: Sequence[Sequence[K]], weights: Sequence[float] | None = None,
                           k: float = 60.0) -> list[tuple[K, float]]:
    """Reciprocal rank fusion (Cormack et al. 2009): score(d) = sum_r w_r / (k + rank_r(d)), ranks from 1.
    Returns (id, score) best first; ties keep first-seen order."""
    weights = list(weights) if weights is not None else [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError("one weight per ranking")
    scores: dict[K, float] = {}
    for ranking, w in zip(rankings, weights):
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + w / (k + rank)
    return sorted(scores.items(), key=lambda kv: -kv[1])


def collapse_to_documents(ranked_chunks: Sequence[tuple[K, float]], doc_of: dict[K, Hashable]
                          ) -> list[tuple[Hashable, float, K]]:
    """Best chunk per document: (doc, score, best_chunk), best first (inputs must be sorted best first)."""
    seen: dict[Hashable, tuple[Hashable, float, K]] = {}
    for chunk, score in ranked_chunks:
        doc = doc_of[chunk]
        if doc not in seen:
            seen[doc] = (doc, score, chunk)
    return list(seen.values())


def mmr(relevance: Sequence[float], similarity: np.ndarray, k: int, lam: float = 0.7) -> list[int]:
    """Maximal marginal relevance (Carbonell & Goldstein 1998): greedily pick the candidate maximising
    lam * rel_i - (1 - lam) * max_{j picked} sim_ij. relevance is rescaled to [0, 1] first so lam is comparable
    across score scales. Returns candidate indices in pick order. lam = 1 keeps the relevance order."""
    n = len(relevance)
    if n == 0 or k <= 0:
        return []
    rel = np.asarray(relevance, dtype=np.float64)
    span = rel.max() - rel.min()
    rel = (rel - rel.min()) / span if span > 0 else np.ones_like(rel)
    sim = np.asarray(similarity, dtype=np.float64)
    picked: list[int] = []
    best_sim = np.full(n, -np.inf)
    available = np.ones(n, dtype=bool)
    for _ in range(min(k, n)):
        penalty = np.where(np.isfinite(best_sim), best_sim, 0.0)
        score = lam * rel - (1.0 - lam) * penalty
        score[~available] = -np.inf
        i = int(np.argmax(score))
        picked.append(i)
        available[i] = False
        best_sim = np.maximum(best_sim, sim[i])
    return picked


def score_fusion(score_lists: Sequence[Sequence[tuple[K, float]]], weights: Sequence[float] | None = None
                 ) -> list[tuple[K, float]]:
    """Convex combination of per-retriever scores after min-max normalisation of each list to [0, 1] (an item
    absent from a list scores 0 there). Keeps score magnitudes that RRF throws away: a confident lexical match
    stays on top even when the dense ranking places it fifth. Returns (id, score) best first."""
    weights = list(weights) if weights is not None else [1.0] * len(score_lists)
    if len(weights) != len(score_lists):
        raise ValueError("one weight per list")
    total = sum(w for w, lst in zip(weights, score_lists) if lst) or 1.0
    fused: dict[K, float] = {}
    order: list[K] = []
    for lst, w in zip(score_lists, weights):
        if not lst:
            continue
        vals = np.array([s for _, s in lst], dtype=np.float64)
        lo, hi = float(vals.min()), float(vals.max())
        lo = min(lo, 0.0) if len(lst) == 1 else lo
        for (item, s) in lst:
            norm = (s - lo) / (hi - lo) if hi > lo else 1.0
            if item not in fused:
                fused[item] = 0.0
                order.append(item)
            fused[item] += w / total * norm
    pos = {item: i for i, item in enumerate(order)}
    return sorted(fused.items(), key=lambda kv: (-kv[1], pos[kv[0]]))
