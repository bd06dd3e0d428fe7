"""Knowledge engine: the reference library (seeds/library), a hybrid dense + BM25 index over it, unit retrieval,
and arXiv / Semantic Scholar search. Entry point for the agents: `search(query, k, sources)`."""
from genesys.knowledge.engine import (KnowledgeConfig, KnowledgeEngine, SearchResult, get_engine,
                                      normalize_sources, search)
from genesys.knowledge.library import Entry, LibraryError, load_library
from genesys.knowledge.units import UnitRecord

__all__ = ["KnowledgeConfig", "KnowledgeEngine", "SearchResult", "get_engine", "normalize_sources", "search",
           "Entry", "LibraryError", "load_library", "UnitRecord"]
