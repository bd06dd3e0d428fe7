from __future__ import annotations

import shutil

import numpy as np
import yaml

from genesys.knowledge import KnowledgeEngine
from genesys.knowledge.chunking import Chunk
from genesys.knowledge.index import EmbeddingCache, HybridIndex
from genesys.knowledge.library import LIBRARY_DIR

TOY = [("rope", "Rotary position embedding rotates queries and keys by position-dependent angles."),
       ("rmsnorm", "Root mean square normalisation rescales activations without centring."),
       ("mamba", "Selective state space model with input-dependent step size and a parallel scan."),
       ("moe", "Mixture of experts routes each token to one of many feed-forward experts."),
       ("alibi", "Linear distance penalty added to attention scores for length extrapolation.")]


def _chunks():
    return [Chunk(d, "library", "card", d, t) for d, t in TOY]


class CountingEmbedder:
    def __init__(self, inner):
        self.inner, self.name, self.dim, self.calls = inner, inner.name, inner.dim, 0

    def encode(self, texts, batch_size=32):
        self.calls += len(texts)
        return self.inner.encode(texts, batch_size)


def test_build_search_save_load_roundtrip(tmp_path, embedder):
    idx = HybridIndex.build(_chunks(), embedder, "fp")
    q = "which block uses an input-dependent step size"
    qv = embedder.encode([q])[0]
    for mode in ("hybrid", "dense", "bm25"):
        assert idx.search(q, qv, k=1, mode=mode)[0].doc_id == "mamba"
    idx.save(tmp_path / "ix")
    again = HybridIndex.load(tmp_path / "ix")
    assert [h.doc_id for h in again.search(q, qv, k=5)] == [h.doc_id for h in idx.search(q, qv, k=5)]
    assert again.meta.fingerprint == "fp" and again.meta.n_chunks == 5
    np.testing.assert_allclose(again.vectors, idx.vectors)
    # BM25 scores match bm25s's own scoring
    import bm25s

    from genesys.knowledge.index import tokenize
    ref = bm25s.BM25()
    ref.index([tokenize(c.text) for c in _chunks()], show_progress=False)
    toks = [t for t in tokenize(q) if t in ref.vocab_dict]
    np.testing.assert_allclose(again.bm25.scores(toks), ref.get_scores(toks), rtol=1e-5)


def test_search_without_query_vector_falls_back_to_bm25(embedder):
    idx = HybridIndex.build(_chunks(), embedder, "fp")
    assert idx.search("mixture of experts routing", None, k=1)[0].doc_id == "moe"
    assert idx.search("zzz qqq", None, k=3) == []


def test_embedding_cache_reuses_vectors(tmp_path, embedder):
    counting = CountingEmbedder(embedder)
    cache = EmbeddingCache(tmp_path, counting.name)
    texts = [t for _, t in TOY]
    a = cache.encode(counting, texts)
    assert counting.calls == 5
    b = EmbeddingCache(tmp_path, counting.name).encode(counting, texts + ["a new passage"])
    assert counting.calls == 6
    np.testing.assert_allclose(a, b[:5])


def _small_library(folder, names=("rope", "alibi", "xpos")):
    """A copy of a few entries, with cross-references dropped so the subset is self-contained."""
    folder.mkdir()
    for name in names:
        data = yaml.safe_load((LIBRARY_DIR / f"{name}.yaml").read_text())
        data["related"] = []
        (folder / f"{name}.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    shutil.copy(LIBRARY_DIR / "_schema.yaml", folder / "_schema.yaml")
    return folder


def test_index_is_rebuilt_only_when_library_changes(tmp_path):
    lib = _small_library(tmp_path / "lib")
    cfg = {"library_dir": str(lib), "cache_dir": str(tmp_path / "cache"), "unit_dirs": []}
    first = KnowledgeEngine(cfg)
    hits = first.search("rotary embedding of queries and keys", k=3)
    assert hits[0].id == "rope"
    assert first.last_build["library"]["built"]
    second = KnowledgeEngine(cfg)
    assert [r.id for r in second.search("rotary embedding of queries and keys", k=3)] == [r.id for r in hits]
    assert not second.last_build["library"]["built"]
    (lib / "xpos.yaml").write_text((lib / "xpos.yaml").read_text().replace("length extrapolation",
                                                                           "length extrapolation beyond training"))
    third = KnowledgeEngine(cfg)
    third.search("rotary", k=1)
    assert third.last_build["library"]["built"]
    assert len(list((tmp_path / "cache").glob("library-*"))) == 1  # the stale index was removed


def test_corrupt_index_is_rebuilt(tmp_path):
    lib = _small_library(tmp_path / "lib")
    cfg = {"library_dir": str(lib), "cache_dir": str(tmp_path / "cache"), "unit_dirs": []}
    KnowledgeEngine(cfg).search("rotary", k=1)
    folder = next((tmp_path / "cache").glob("library-*"))
    (folder / "vectors.npy").write_text("garbage")
    eng = KnowledgeEngine(cfg)
    assert eng.search("rotary", k=1)[0].id == "rope"
    assert eng.last_build["library"]["built"]
