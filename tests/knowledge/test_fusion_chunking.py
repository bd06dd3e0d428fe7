from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from genesys.knowledge.chunking import chunk_entry, windows
from genesys.knowledge.fusion import collapse_to_documents, mmr, reciprocal_rank_fusion, score_fusion
from genesys.knowledge.index import tokenize
from genesys.knowledge.library import load_library

words = st.lists(st.text(alphabet="abcdefgh", min_size=1, max_size=6), min_size=0, max_size=400)


@settings(max_examples=60, deadline=None)
@given(words, st.integers(5, 60), st.integers(0, 30), st.booleans())
def test_windows_cover_text_within_limit(ws, max_words, overlap, sentences):
    text = " ".join(w + ("." if sentences and i % 7 == 6 else "") for i, w in enumerate(ws))
    out = windows(text, max_words, overlap)
    assert all(1 <= len(w.split()) <= max_words for w in out)
    joined = [w for win in out for w in win.split()]
    assert set(joined) == set(text.split())
    if len(text.split()) <= max_words:
        assert out == ([" ".join(text.split())] if ws else [])


def test_entry_chunks_carry_title():
    e = next(e for e in load_library() if e.id == "mamba")
    chunks = chunk_entry(e)
    assert [c.part for c in chunks] == ["card", "mechanism"]
    assert all(c.text.startswith(e.title) and c.doc_id == "mamba" for c in chunks)


def test_rrf_prefers_agreement():
    fused = dict(reciprocal_rank_fusion([["a", "b", "c"], ["b", "c", "a"]]))
    assert max(fused, key=fused.get) == "b"
    w = dict(reciprocal_rank_fusion([["a", "b"], ["b", "a"]], weights=[3, 1]))
    assert w["a"] > w["b"]


def test_score_fusion_keeps_confident_matches():
    dense = [("x", 0.50), ("y", 0.49), ("z", 0.10)]
    lex = [("z", 12.0), ("x", 1.0)]
    fused = score_fusion([dense, lex])
    assert fused[0][0] == "z" or fused[0][0] == "x"
    assert dict(fused)["z"] > dict(fused)["y"]
    assert score_fusion([[], lex])[0][0] == "z"  # an empty list is ignored, not a zero


def test_collapse_keeps_best_chunk_per_document():
    docs = collapse_to_documents([(0, 0.9), (1, 0.8), (2, 0.7)], {0: "a", 1: "a", 2: "b"})
    assert docs == [("a", 0.9, 0), ("b", 0.7, 2)]


def test_mmr_drops_near_duplicates():
    rel = [1.0, 0.99, 0.5]
    sim = np.array([[1, 0.99, 0.1], [0.99, 1, 0.1], [0.1, 0.1, 1]])
    assert mmr(rel, sim, 2, lam=1.0) == [0, 1]
    assert mmr(rel, sim, 2, lam=0.3) == [0, 2]  # relevance is min-max scaled: item 2 counts as 0
    assert sorted(mmr(rel, sim, 5, lam=0.5)) == [0, 1, 2]


def test_tokenize():
    toks = tokenize("Input-dependent step sizes of the SSMs")
    assert {"input", "dependent", "inputdependent", "step", "size", "ssm"} <= set(toks)
    assert "the" not in toks
