"""The knowledge engine: one `search(query, k, sources)` API over the reference library, the unit library and
external paper search. This is the interface the agents (and the symbolic designer, for unit swaps) use.

    from genesys.knowledge import search
    for r in search("data-dependent decay in a linear RNN", k=5):
        print(r.source, r.id, r.title, r.url)

Sources: "library" (seeds/library), "units" (seed units + units added from the evolution tree), "arxiv",
"semantic_scholar" (alias "s2"). External sources only run in online mode; whatever fails is logged and the
answer falls back to the local library, so `search` never raises for an unreachable service.
"""
from __future__ import annotations

import dataclasses
import logging
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from genesys import paths
from genesys.knowledge import library as lib
from genesys.knowledge.chunking import chunk_entries
from genesys.knowledge.external import (ArxivClient, ExternalSearchError, Paper, ResponseCache,
                                        SemanticScholarClient, Transport)
from genesys.knowledge.index import FORMAT_VERSION, EmbeddingCache, HybridIndex
from genesys.knowledge.units import UnitRecord, chunk_units, default_unit_dirs, fingerprint_units, scan_units

log = logging.getLogger(__name__)

LOCAL_SOURCES = ("library", "units")
EXTERNAL_SOURCES = ("arxiv", "semantic_scholar")
ALIASES = {"s2": "semantic_scholar", "semanticscholar": "semantic_scholar", "papers": "library",
           "lib": "library", "unit": "units"}


@dataclass
class ExternalConfig:
    enabled: bool = False
    timeout_s: float = 10.0
    cache_ttl_s: float = 7 * 24 * 3600.0
    retries: int = 1
    arxiv_url: str = "https://export.arxiv.org/api/query"
    arxiv_min_interval_s: float = 3.0
    semantic_scholar_url: str = "https://api.semanticscholar.org/graph/v1/paper/search"
    semantic_scholar_min_interval_s: float = 1.0
    semantic_scholar_api_key_env: str = "S2_API_KEY"


@dataclass
class KnowledgeConfig:
    mode: str = "offline"                      # offline | online
    library_dir: str | None = None             # default: seeds/library
    unit_dirs: list[str] | None = None         # default: seeds/units and seeds/*/units
    cache_dir: str | None = None               # default: genesys.paths.cache_dir("knowledge")
    embedding_model: str = "all-MiniLM-L6-v2"  # bundled locally; any sentence-transformers name when online
    embedding_backend: str = "auto"            # auto | numpy | sentence-transformers
    device: str | None = None
    faiss_gpu: str = "auto"                    # auto | true | false
    chunk_words: int = 120
    chunk_overlap: int = 30
    retrieval: str = "hybrid"                  # hybrid | dense | bm25
    fusion: str = "score"                      # score (convex, min-max normalised) | rrf
    candidates: int = 200                      # per retriever, before fusion (whole library by default)
    rrf_k: float = 60.0
    dense_weight: float = 1.0
    bm25_weight: float = 1.0
    mmr_lambda: float = 0.85                   # 1.0 = no diversity re-ranking
    default_sources: list[str] = field(default_factory=lambda: ["library"])
    source_weights: dict[str, float] = field(default_factory=lambda: {
        "library": 1.0, "units": 1.0, "arxiv": 0.5, "semantic_scholar": 0.5})
    external: ExternalConfig = field(default_factory=ExternalConfig)

    @classmethod
    def from_any(cls, cfg: Any = None) -> "KnowledgeConfig":
        if cfg is None:
            return cls()
        if isinstance(cfg, KnowledgeConfig):
            return cfg
        if not isinstance(cfg, Mapping):  # an OmegaConf DictConfig
            from omegaconf import OmegaConf

            cfg = OmegaConf.to_container(cfg, resolve=True)
        cfg = dict(cfg)
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(cfg) - known
        if unknown:
            raise ValueError(f"unknown knowledge config keys: {sorted(unknown)}")
        ext = cfg.pop("external", None) or {}
        ext_known = {f.name for f in dataclasses.fields(ExternalConfig)}
        if set(ext) - ext_known:
            raise ValueError(f"unknown knowledge.external keys: {sorted(set(ext) - ext_known)}")
        out = cls(**cfg, external=ExternalConfig(**ext))
        if out.mode not in ("offline", "online"):
            raise ValueError(f"knowledge.mode must be offline or online, got {out.mode!r}")
        return out


@dataclass
class SearchResult:
    source: str
    id: str
    title: str
    score: float
    snippet: str = ""
    url: str = ""
    year: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def as_text(self) -> str:
        """A compact block for an agent prompt."""
        head = f"[{self.source}] {self.title}" + (f" ({self.year})" if self.year else "")
        lines = [head]
        if self.url:
            lines.append(self.url)
        if self.snippet:
            lines.append(self.snippet)
        mech = self.extra.get("mechanism")
        if mech:
            lines.append(f"Mechanism: {mech}")
        return "\n".join(lines)


def normalize_sources(sources: str | Sequence[str] | None, default: Sequence[str]) -> list[str]:
    if sources is None or sources == "" or sources == []:
        sources = list(default)
    if isinstance(sources, str):
        sources = [s for s in sources.replace("+", ",").split(",")]
    out: list[str] = []
    for s in sources:
        s = ALIASES.get(str(s).strip().lower(), str(s).strip().lower())
        if s == "all":
            cand = [*LOCAL_SOURCES, *EXTERNAL_SOURCES]
        elif s == "external":
            cand = list(EXTERNAL_SOURCES)
        else:
            cand = [s]
        for c in cand:
            if c not in LOCAL_SOURCES + EXTERNAL_SOURCES:
                raise ValueError(f"unknown source {c!r}; choose from {LOCAL_SOURCES + EXTERNAL_SOURCES}")
            if c not in out:
                out.append(c)
    return out


class KnowledgeEngine:
    def __init__(self, cfg: Any = None, transports: Mapping[str, Transport] | None = None):
        self.cfg = KnowledgeConfig.from_any(cfg)
        self.library_dir = Path(self.cfg.library_dir) if self.cfg.library_dir else lib.LIBRARY_DIR
        self.cache_root = Path(self.cfg.cache_dir) if self.cfg.cache_dir else paths.cache_dir("knowledge")
        self._transports = dict(transports or {})
        self._lock = threading.RLock()
        self._embedder = None
        self._entries: dict[str, lib.Entry] | None = None
        self._library_index: HybridIndex | None = None
        self._unit_index: HybridIndex | None = None
        self._units: dict[str, UnitRecord] | None = None
        self._extra_units: dict[str, UnitRecord] = {}
        self._clients: dict[str, Any] = {}
        self.last_build: dict[str, Any] = {}

    # ---------------------------------------------------------------- embeddings
    @property
    def embedder(self):
        with self._lock:
            if self._embedder is None:
                from genesys.knowledge.embed import load_embedder

                try:
                    self._embedder = load_embedder(self.cfg.embedding_model, self.cfg.embedding_backend,
                                                   self.cfg.device)
                except Exception as exc:  # e.g. a hub model name while offline
                    if self.cfg.embedding_model.lower() in ("all-minilm-l6-v2",
                                                            "sentence-transformers/all-minilm-l6-v2"):
                        raise
                    log.warning("embedding model %r unavailable (%s); falling back to the bundled all-MiniLM-L6-v2",
                                self.cfg.embedding_model, exc)
                    self._embedder = load_embedder("all-MiniLM-L6-v2", self.cfg.embedding_backend, self.cfg.device)
            return self._embedder

    def _model_tag(self) -> str:
        return self.cfg.embedding_model

    def _fingerprint(self, content_fp: str) -> str:
        import hashlib

        key = f"{content_fp}|{self._model_tag()}|{self.cfg.chunk_words}|{self.cfg.chunk_overlap}|{FORMAT_VERSION}"
        return hashlib.sha256(key.encode()).hexdigest()[:16]

    def _load_or_build(self, kind: str, fingerprint: str, make_chunks) -> HybridIndex:
        folder = self.cache_root / f"{kind}-{fingerprint}"
        if (folder / "meta.json").exists():
            try:
                index = HybridIndex.load(folder, faiss_gpu=self.cfg.faiss_gpu)
                self.last_build[kind] = {"built": False, "folder": str(folder)}
                return index
            except Exception as exc:  # corrupt or from another version: rebuild
                log.warning("rebuilding unreadable %s index at %s: %s", kind, folder, exc)
        import time

        t0 = time.perf_counter()
        chunks = make_chunks()
        cache = EmbeddingCache(self.cache_root / "embeddings", self._model_tag())
        index = HybridIndex.build(chunks, self.embedder, fingerprint, cache=cache, faiss_gpu=self.cfg.faiss_gpu)
        index.save(folder)
        for stale in self.cache_root.glob(f"{kind}-*"):
            if stale != folder and stale.is_dir():
                shutil.rmtree(stale, ignore_errors=True)
        self.last_build[kind] = {"built": True, "folder": str(folder), "seconds": time.perf_counter() - t0,
                                 "chunks": len(chunks)}
        log.info("built %s index (%d chunks) in %.1fs -> %s", kind, len(chunks), time.perf_counter() - t0, folder)
        return index

    # ---------------------------------------------------------------- library
    @property
    def entries(self) -> dict[str, lib.Entry]:
        with self._lock:
            if self._entries is None:
                self._entries = {e.id: e for e in lib.load_library(self.library_dir)}
            return self._entries

    def library_index(self) -> HybridIndex:
        with self._lock:
            if self._library_index is None:
                fp = self._fingerprint(lib.library_fingerprint(self.library_dir))
                entries = list(self.entries.values())
                self._library_index = self._load_or_build(
                    "library", fp, lambda: chunk_entries(entries, self.cfg.chunk_words, self.cfg.chunk_overlap))
            return self._library_index

    # ---------------------------------------------------------------- units
    def units(self) -> dict[str, UnitRecord]:
        with self._lock:
            if self._units is None:
                dirs = [Path(d) for d in self.cfg.unit_dirs] if self.cfg.unit_dirs is not None \
                    else default_unit_dirs()
                self._units = {r.key: r for r in scan_units(dirs)}
            return {**self._units, **self._extra_units}

    def add_units(self, units: Iterable[UnitRecord | Mapping[str, Any]]) -> int:
        """Add units held in memory (e.g. from the evolution tree): UnitRecord or dicts with name, description,
        code, source. Returns how many were new."""
        n = 0
        with self._lock:
            for u in units:
                rec = u if isinstance(u, UnitRecord) else UnitRecord(**{"source": "tree", **dict(u)})
                if rec.key not in self._extra_units:
                    self._extra_units[rec.key] = rec
                    n += 1
            if n:
                self._unit_index = None
        return n

    def refresh_units(self) -> None:
        """Re-scan unit folders on the next search (seed units changed on disk)."""
        with self._lock:
            self._units, self._unit_index = None, None

    def unit_index(self) -> HybridIndex:
        with self._lock:
            if self._unit_index is None:
                records = list(self.units().values())
                fp = self._fingerprint(fingerprint_units(records))
                self._unit_index = self._load_or_build(
                    "units", fp, lambda: chunk_units(records, self.cfg.chunk_words, self.cfg.chunk_overlap))
            return self._unit_index

    def search_units(self, query: str, k: int = 5, exclude: Iterable[str] = ()) -> list[tuple[UnitRecord, float]]:
        """Units best matching a description (for reuse and swaps); `exclude` drops unit names."""
        skip = set(exclude)
        hits = self._search_index(self.unit_index(), query, k + len(skip), self._query_vec(query))
        units = self.units()
        return [(units[h.doc_id], h.score) for h in hits if units[h.doc_id].name not in skip][:k]

    # ---------------------------------------------------------------- external
    def client(self, source: str):
        with self._lock:
            if source not in self._clients:
                e = self.cfg.external
                offline = self.cfg.mode != "online" or not e.enabled
                common = dict(transport=self._transports.get(source), timeout_s=e.timeout_s, offline=offline,
                              retries=e.retries,
                              cache=ResponseCache(self.cache_root / "http" / source, ttl_s=e.cache_ttl_s))
                if source == "arxiv":
                    self._clients[source] = ArxivClient(e.arxiv_url, min_interval_s=e.arxiv_min_interval_s, **common)
                else:
                    self._clients[source] = SemanticScholarClient(
                        e.semantic_scholar_url, api_key_env=e.semantic_scholar_api_key_env,
                        min_interval_s=e.semantic_scholar_min_interval_s, **common)
            return self._clients[source]

    @staticmethod
    def _paper_result(p: Paper, rank: int) -> SearchResult:
        snippet = p.abstract if len(p.abstract) <= 400 else p.abstract[:397].rsplit(" ", 1)[0] + "..."
        return SearchResult(source=p.source, id=p.id, title=p.title, score=1.0 / rank, snippet=snippet, url=p.url,
                            year=p.year, extra={"authors": list(p.authors[:5]), "arxiv": p.arxiv, **dict(p.extra)})

    # ---------------------------------------------------------------- search
    def _query_vec(self, query: str) -> np.ndarray | None:
        if self.cfg.retrieval == "bm25":
            return None
        return self.embedder.encode([query])[0]

    def _search_index(self, index: HybridIndex, query: str, k: int, qvec, mode: str | None = None):
        c = self.cfg
        return index.search(query, qvec, k=k, mode=mode or c.retrieval, candidates=c.candidates, rrf_k=c.rrf_k,
                            weights=(c.dense_weight, c.bm25_weight), mmr_lambda=c.mmr_lambda, fusion=c.fusion)

    def search_library(self, query: str, k: int = 5, mode: str | None = None,
                       mmr_lambda: float | None = None, qvec: np.ndarray | None = None) -> list[SearchResult]:
        index = self.library_index()
        if qvec is None and (mode or self.cfg.retrieval) != "bm25":
            qvec = self._query_vec(query)
        c = self.cfg
        hits = index.search(query, qvec, k=k, mode=mode or c.retrieval, candidates=c.candidates, rrf_k=c.rrf_k,
                            weights=(c.dense_weight, c.bm25_weight),
                            mmr_lambda=c.mmr_lambda if mmr_lambda is None else mmr_lambda, fusion=c.fusion)
        return [self._entry_result(self.entries[h.doc_id], h.score, matched=h.chunk.part, dense_rank=h.dense_rank,
                                   bm25_rank=h.bm25_rank) for h in hits]

    @staticmethod
    def _entry_result(e: lib.Entry, score: float, **extra: Any) -> SearchResult:
        return SearchResult(source="library", id=e.id, title=e.title, score=score, snippet=e.summary, url=e.url,
                            year=e.year, extra={"mechanism": e.mechanism, "branches": list(e.branches),
                                                "arxiv": e.arxiv, "seeds": list(e.seeds), "units": list(e.units),
                                                **extra})

    def _unit_results(self, query: str, k: int, qvec) -> list[SearchResult]:
        hits = self._search_index(self.unit_index(), query, k, qvec)
        units = self.units()
        out = []
        for h in hits:
            u = units[h.doc_id]
            out.append(SearchResult(source="units", id=u.name, title=u.name, score=h.score,
                                    snippet=u.description[:400], url=u.path, year=None,
                                    extra={"key": u.key, "design": u.design, "origin": u.source,
                                           "inputs": list(u.inputs), "outputs": list(u.outputs)}))
        return out

    def search(self, query: str, k: int = 5, sources: str | Sequence[str] | None = None) -> list[SearchResult]:
        """Top-k results over the requested sources (default: config's default_sources), interleaved across
        sources by source weight. Never raises for external failures: they are logged and the local
        library answers instead."""
        if not query or not query.strip():
            return []
        srcs = normalize_sources(sources, self.cfg.default_sources)
        per_source: dict[str, list[SearchResult]] = {}
        failed: list[str] = []
        qvec = None
        for s in srcs:
            if s in EXTERNAL_SOURCES:
                try:
                    papers = self.client(s).search(query, k)
                    per_source[s] = [self._paper_result(p, i) for i, p in enumerate(papers, 1)]
                except ExternalSearchError as exc:
                    log.warning("external search %s unavailable (%s); answering from the local library", s, exc)
                    failed.append(s)
                except Exception as exc:  # a bug in a transport must not take the designer down
                    log.warning("external search %s failed unexpectedly (%r); answering from the local library",
                                s, exc)
                    failed.append(s)
        local = [s for s in srcs if s in LOCAL_SOURCES]
        if failed and "library" not in local and not any(per_source.get(s) for s in EXTERNAL_SOURCES):
            local.append("library")
        if local and self.cfg.retrieval != "bm25":
            qvec = self._query_vec(query)
        if "library" in local:
            per_source["library"] = self.search_library(query, k, qvec=qvec)
        if "units" in local:
            per_source["units"] = self._unit_results(query, k, qvec)
        lists = [(s, per_source[s]) for s in [*srcs, "library"] if s in per_source and per_source[s]]
        seen_src: set[str] = set()
        lists = [(s, r) for s, r in lists if not (s in seen_src or seen_src.add(s))]
        return self._interleave(lists, k)

    def _interleave(self, lists: list[tuple[str, list[SearchResult]]], k: int) -> list[SearchResult]:
        """Round-robin over sources (higher source weight first within each round), so every source that answered
        is represented. An external paper that is also a library entry is shown as the (richer) library entry,
        and only once."""
        weights = self.cfg.source_weights
        lists = sorted([(s, rs) for s, rs in lists if weights.get(s, 1.0) > 0],
                       key=lambda sr: -weights.get(sr[0], 1.0))
        by_arxiv = {e.arxiv: e for e in (self._entries or {}).values() if e.arxiv}
        out: list[SearchResult] = []
        seen: set[tuple[str, str]] = set()
        iters = [iter(rs) for _, rs in lists]
        while len(out) < k and iters:
            alive = []
            for it in iters:
                for r in it:
                    entry = by_arxiv.get(r.extra.get("arxiv")) if r.source in EXTERNAL_SOURCES else None
                    if entry is not None:
                        r = self._entry_result(entry, r.score, found_by=r.source)
                    key = ("paper", r.extra["arxiv"]) if r.extra.get("arxiv") else (r.source, r.id)
                    if key in seen:
                        continue
                    seen.add(key)
                    out.append(r)
                    alive.append(it)
                    break
                if len(out) >= k:
                    break
            iters = alive
        return out[:k]


_DEFAULT: KnowledgeEngine | None = None
_DEFAULT_LOCK = threading.Lock()


def get_engine(cfg: Any = None) -> KnowledgeEngine:
    """The process-wide engine for the default (offline) config, or a new engine for a given config."""
    global _DEFAULT
    if cfg is not None:
        return KnowledgeEngine(cfg)
    with _DEFAULT_LOCK:
        if _DEFAULT is None:
            _DEFAULT = KnowledgeEngine()
        return _DEFAULT


def search(query: str, k: int = 5, sources: str | Sequence[str] | None = None, cfg: Any = None
           ) -> list[SearchResult]:
    """Module-level convenience: `search(query, k, sources)` on the default engine (or one built from cfg)."""
    return get_engine(cfg).search(query, k=k, sources=sources)
