"""Split documents (library entries, units) into short passages for retrieval.

Each passage keeps its document's title as a prefix so that it stands on its own for both BM25 and the encoder
(MiniLM reads at most 256 word pieces; windows of ~120 words stay below that).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

from genesys.knowledge.library import Entry


@dataclass(frozen=True)
class Chunk:
    doc_id: str     # id of the document (library entry id, or unit key)
    source: str     # "library" | "units"
    part: str       # which field(s) the text comes from, e.g. "card", "mechanism#1"
    title: str
    text: str

    @property
    def key(self) -> str:
        return f"{self.source}:{self.doc_id}:{self.part}"


_SENTENCE = re.compile(r"(?<=[.!?;])\s+")


def windows(text: str, max_words: int = 120, overlap: int = 30) -> list[str]:
    """Split text into windows of at most max_words words, cut at sentence ends where possible, with about
    `overlap` words repeated between consecutive windows. Short texts come back whole."""
    if max_words <= 0:
        raise ValueError("max_words must be positive")
    overlap = max(0, min(overlap, max_words // 2))
    words = text.split()
    if len(words) <= max_words:
        return [" ".join(words)] if words else []
    sentences = [s.split() for s in _SENTENCE.split(text.strip()) if s.strip()]
    # break sentences longer than a window into pieces
    pieces: list[list[str]] = []
    for s in sentences:
        for i in range(0, len(s), max_words):
            pieces.append(s[i:i + max_words])
    out: list[str] = []
    cur: list[str] = []
    for piece in pieces:
        if cur and len(cur) + len(piece) > max_words:
            out.append(" ".join(cur))
            tail = cur[-overlap:] if overlap else []
            cur = tail if len(tail) + len(piece) <= max_words else []
        cur = cur + piece
    if cur:
        out.append(" ".join(cur))
    return out


def chunk_document(doc_id: str, source: str, title: str, fields: Iterable[tuple[str, str]],
                   max_words: int = 120, overlap: int = 30) -> list[Chunk]:
    chunks = []
    for part, text in fields:
        parts = windows(text, max_words, overlap)
        for i, piece in enumerate(parts):
            name = part if len(parts) == 1 else f"{part}#{i}"
            chunks.append(Chunk(doc_id, source, name, title, f"{title}. {piece}"))
    return chunks


def chunk_entry(entry: Entry, max_words: int = 120, overlap: int = 30) -> list[Chunk]:
    """Two passages per entry: a card (tags, branches, summary) and the mechanism."""
    card = f"({entry.year}; {', '.join(entry.branches)}; {', '.join(entry.tags)}) {entry.summary}"
    return chunk_document(entry.id, "library", entry.title, [("card", card), ("mechanism", entry.mechanism)],
                          max_words, overlap)


def chunk_entries(entries: Iterable[Entry], max_words: int = 120, overlap: int = 30) -> list[Chunk]:
    return [c for e in entries for c in chunk_entry(e, max_words, overlap)]
