"""Hybrid passage index: dense (FAISS inner product over normalised embeddings) + lexical (BM25 via bm25s),
fused by reciprocal rank fusion, collapsed to documents, diversified with MMR. Persisted to a folder.
"""
from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from genesys.knowledge.chunking import Chunk
from genesys.knowledge.fusion import collapse_to_documents, mmr, reciprocal_rank_fusion, score_fusion

log = logging.getLogger(__name__)

FORMAT_VERSION = 2
MODES = ("hybrid", "dense", "bm25")
FUSIONS = ("score", "rrf")

_STOP = frozenset("""a an and are as at be by can do does for from has have how in into is it its of on or that the
their them then there these this those to was were what when where which while who why will with without via use
using used we our you your than more most model models""".split())
_TOKEN = re.compile(r"[a-z0-9]+")


def _stem(tok: str) -> str:
    if len(tok) > 4 and tok.endswith("ies"):
        return tok[:-3] + "y"
    if len(tok) > 3 and tok.endswith("s") and not tok.endswith(("ss", "us", "is")):
        return tok[:-1]
    return tok


def tokenize(text: str) -> list[str]:
    """Lower-case word pieces without stop words, plural-stripped; hyphenated words also kept joined
    ("input-dependent" -> input, dependent, inputdependent)."""
    low = text.lower()
    toks = [_stem(t) for t in _TOKEN.findall(low) if t not in _STOP]
    toks += [w.replace("-", "") for w in re.findall(r"[a-z0-9]+(?:-[a-z0-9]+)+", low)]
    return toks


@dataclass
class Hit:
    doc_id: str
    source: str
    score: float
    chunk: Chunk
    dense_rank: int | None = None
    bm25_rank: int | None = None


@dataclass
class IndexMeta:
    fingerprint: str
    model: str
    dim: int
    n_chunks: int
    format: int = FORMAT_VERSION
    extra: dict = field(default_factory=dict)


class EmbeddingCache:
    """Vectors by (model, text) in one .npz per model, so an edited library re-embeds only changed passages."""

    def __init__(self, folder: Path, model: str):
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", model)[-80:]
        self.path = Path(folder) / f"{slug}.npz"
        self._vecs: dict[str, np.ndarray] = {}
        if self.path.exists():
            try:
                with np.load(self.path) as z:
                    self._vecs = dict(zip(z["keys"].tolist(), z["vecs"]))
            except (OSError, ValueError, KeyError):
                log.warning("ignoring unreadable embedding cache %s", self.path)

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha1(text.encode()).hexdigest()

    def encode(self, embedder, texts: Sequence[str]) -> np.ndarray:
        keys = [self.key(t) for t in texts]
        missing = sorted({k: t for k, t in zip(keys, texts) if k not in self._vecs}.items())
        if missing:
            vecs = embedder.encode([t for _, t in missing])
            self._vecs.update({k: v for (k, _), v in zip(missing, vecs)})
            self.save()
        if not texts:
            return np.zeros((0, embedder.dim), dtype=np.float32)
        return np.stack([self._vecs[k] for k in keys]).astype(np.float32)

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp.npz")
        keys = list(self._vecs)
        vecs = np.stack([self._vecs[k] for k in keys]) if keys else np.zeros((0, 0), np.float32)
        np.savez(tmp, keys=np.array(keys, dtype="U40"), vecs=vecs)
        tmp.replace(self.path)


class Bm25Matrix:
    """BM25 term weights computed by bm25s (Lucene variant) and kept as the sparse term x passage matrix it
    builds (CSC arrays). Scoring a query is a sum of a few matrix rows, done here in NumPy so that loading a
    persisted index and answering a query needs neither bm25s nor scipy (about a second of imports)."""

    def __init__(self, data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, num_docs: int,
                 vocab: dict[str, int]):
        self.data, self.indices, self.indptr = data, indices, indptr
        self.num_docs = int(num_docs)
        self.vocab = vocab

    @classmethod
    def build(cls, corpus_tokens: list[list[str]], k1: float = 1.5, b: float = 0.75) -> "Bm25Matrix":
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)
        retriever = bm25s.BM25(k1=k1, b=b)
        retriever.index(corpus_tokens, show_progress=False)
        sc = retriever.scores
        vocab = {str(t): int(i) for t, i in retriever.vocab_dict.items()}
        return cls(np.asarray(sc["data"], np.float32), np.asarray(sc["indices"], np.int64),
                   np.asarray(sc["indptr"], np.int64), sc["num_docs"], vocab)

    def scores(self, tokens: Sequence[str]) -> np.ndarray:
        out = np.zeros(self.num_docs, dtype=np.float32)
        for t in tokens:  # repeated query terms count repeatedly, as in bm25s
            i = self.vocab.get(t)
            if i is not None:
                lo, hi = self.indptr[i], self.indptr[i + 1]
                np.add.at(out, self.indices[lo:hi], self.data[lo:hi])
        return out

    def save(self, folder: Path) -> None:
        np.savez(folder / "bm25.npz", data=self.data, indices=self.indices, indptr=self.indptr,
                 num_docs=np.array(self.num_docs))
        (folder / "bm25_vocab.json").write_text(json.dumps(self.vocab))

    @classmethod
    def load(cls, folder: Path) -> "Bm25Matrix":
        with np.load(folder / "bm25.npz") as z:
            arrays = {k: z[k] for k in ("data", "indices", "indptr", "num_docs")}
        vocab = json.loads((folder / "bm25_vocab.json").read_text())
        return cls(arrays["data"], arrays["indices"], arrays["indptr"], int(arrays["num_docs"]), vocab)


def _faiss_index(vectors: np.ndarray, use_gpu: str | bool = "auto"):
    import faiss

    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    want = use_gpu is True or str(use_gpu).lower() in ("true", "auto", "1")
    if want and hasattr(faiss, "StandardGpuResources") and faiss.get_num_gpus() > 0:
        try:
            res = faiss.StandardGpuResources()
            gpu = faiss.index_cpu_to_gpu(res, 0, index)
            gpu._genesys_res = res  # keep the resources alive as long as the index
            return gpu
        except Exception as exc:  # pragma: no cover - depends on the machine
            log.warning("faiss-gpu present but unusable (%s); using the CPU index", exc)
    elif use_gpu is True or str(use_gpu).lower() in ("true", "1"):
        log.warning("faiss GPU requested but no GPU build/device found; using the CPU index")
    return index


class HybridIndex:
    def __init__(self, chunks: list[Chunk], vectors: np.ndarray, meta: IndexMeta, bm25: Bm25Matrix | None = None,
                 faiss_gpu: str | bool = "auto"):
        if len(chunks) != len(vectors):
            raise ValueError("one vector per chunk")
        self.chunks = chunks
        self.vectors = np.asarray(vectors, dtype=np.float32)
        self.meta = meta
        self.faiss = _faiss_index(self.vectors, faiss_gpu) if len(chunks) else None
        if bm25 is None and chunks:
            bm25 = Bm25Matrix.build([tokenize(c.text) or ["__empty__"] for c in chunks])
        self.bm25 = bm25
        self.doc_of = {i: (c.source, c.doc_id) for i, c in enumerate(chunks)}
        self._doc_vecs: dict[tuple[str, str], np.ndarray] = {}
        for i, c in enumerate(chunks):
            key = (c.source, c.doc_id)
            self._doc_vecs[key] = self._doc_vecs.get(key, 0) + self.vectors[i]
        for key, v in self._doc_vecs.items():
            self._doc_vecs[key] = v / max(float(np.linalg.norm(v)), 1e-12)

    # ---------------------------------------------------------------- build / persist
    @classmethod
    def build(cls, chunks: list[Chunk], embedder, fingerprint: str, cache: EmbeddingCache | None = None,
              faiss_gpu: str | bool = "auto") -> "HybridIndex":
        texts = [c.text for c in chunks]
        vectors = cache.encode(embedder, texts) if cache is not None else embedder.encode(texts)
        if not len(vectors):
            vectors = np.zeros((0, embedder.dim), dtype=np.float32)
        meta = IndexMeta(fingerprint=fingerprint, model=embedder.name, dim=int(embedder.dim), n_chunks=len(chunks))
        return cls(chunks, vectors, meta, faiss_gpu=faiss_gpu)

    def save(self, folder: Path | str) -> Path:
        """Write atomically: into a sibling temp folder, then rename."""
        import faiss

        folder = Path(folder)
        tmp = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        (tmp / "chunks.json").write_text(json.dumps([asdict(c) for c in self.chunks]))
        np.save(tmp / "vectors.npy", self.vectors)
        if self.faiss is not None:
            cpu = faiss.index_gpu_to_cpu(self.faiss) if hasattr(self.faiss, "getDevice") else self.faiss
            faiss.write_index(cpu, str(tmp / "faiss.index"))
            self.bm25.save(tmp)
        (tmp / "meta.json").write_text(json.dumps(asdict(self.meta), indent=1))
        shutil.rmtree(folder, ignore_errors=True)
        tmp.rename(folder)
        return folder

    @classmethod
    def load(cls, folder: Path | str, faiss_gpu: str | bool = "auto") -> "HybridIndex":
        folder = Path(folder)
        meta = IndexMeta(**json.loads((folder / "meta.json").read_text()))
        if meta.format != FORMAT_VERSION:
            raise ValueError(f"index format {meta.format} != {FORMAT_VERSION}")
        chunks = [Chunk(**c) for c in json.loads((folder / "chunks.json").read_text())]
        vectors = np.load(folder / "vectors.npy")
        bm25 = Bm25Matrix.load(folder) if chunks else None
        return cls(chunks, vectors, meta, bm25=bm25, faiss_gpu=faiss_gpu)

    # ---------------------------------------------------------------- retrieval
    def dense_ranking(self, query_vec: np.ndarray, n: int) -> list[tuple[int, float]]:
        if self.faiss is None or n <= 0:
            return []
        q = np.asarray(query_vec, dtype=np.float32).reshape(1, -1)
        scores, ids = self.faiss.search(q, min(n, len(self.chunks)))
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    def bm25_ranking(self, query: str, n: int) -> list[tuple[int, float]]:
        if not self.chunks or n <= 0:
            return []
        toks = [t for t in tokenize(query) if t in self.bm25.vocab]
        if not toks:
            return []
        scores = self.bm25.scores(toks)
        order = np.argsort(-scores, kind="stable")[:n]
        return [(int(i), float(scores[i])) for i in order if scores[i] > 0]

    def search(self, query: str, query_vec: np.ndarray | None, k: int = 5, mode: str = "hybrid",
               candidates: int = 40, rrf_k: float = 60.0, weights: tuple[float, float] = (1.0, 1.0),
               mmr_lambda: float | None = 0.85, fusion: str = "score") -> list[Hit]:
        """Top-k documents. mode: hybrid (dense + BM25 fused by `fusion`: "score" = convex combination of
        min-max normalised scores, "rrf" = reciprocal rank fusion), dense, or bm25. mmr_lambda None or 1 turns
        the diversity step off."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        if fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {FUSIONS}")
        if query_vec is None and mode != "bm25":
            mode = "bm25"  # no encoder available: lexical only
        dense = self.dense_ranking(query_vec, candidates) if mode in ("hybrid", "dense") else []
        lex = self.bm25_ranking(query, candidates) if mode in ("hybrid", "bm25") else []
        d_rank = {i: r for r, (i, _) in enumerate(dense, 1)}
        b_rank = {i: r for r, (i, _) in enumerate(lex, 1)}
        if mode == "hybrid" and fusion == "rrf":
            fused = reciprocal_rank_fusion([[i for i, _ in dense], [i for i, _ in lex]], weights, rrf_k)
        elif mode == "hybrid":
            fused = score_fusion([dense, lex], weights)
        else:
            fused = dense if mode == "dense" else lex
        docs = collapse_to_documents(fused, self.doc_of)
        pool = docs[:max(candidates, k)]
        if mmr_lambda is not None and mmr_lambda < 1.0 and len(pool) > 1:
            vecs = np.stack([self._doc_vecs[d] for d, _, _ in pool])
            order = mmr([s for _, s, _ in pool], vecs @ vecs.T, k, mmr_lambda)
        else:
            order = list(range(min(k, len(pool))))
        hits = []
        for i in order[:k]:
            (source, doc_id), score, chunk_idx = pool[i]
            hits.append(Hit(doc_id=doc_id, source=source, score=float(score), chunk=self.chunks[chunk_idx],
                            dense_rank=d_rank.get(chunk_idx), bm25_rank=b_rank.get(chunk_idx)))
        return hits
