"""The unit library: find existing design units by description (reuse suggestions, symbolic swaps).

Unit files are read statically with `ast` (never imported or executed): the unit name, SPEC["document"], DESC and
the GAUBase subclass's docstring are indexed. Units from the evolution tree come in as `UnitRecord`s directly.
"""
from __future__ import annotations

import ast
import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from genesys import paths
from genesys.knowledge.chunking import Chunk, chunk_document

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UnitRecord:
    name: str
    description: str
    code: str = ""
    source: str = "seeds"          # "seeds" | "tree" | anything the caller names
    path: str = ""
    design: str = ""               # design folder or tree node the unit came from
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    children: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def key(self) -> str:
        """Stable id: name plus a short hash of the code (two different units may share a name)."""
        h = hashlib.sha1((self.code or self.description).encode()).hexdigest()[:8]
        return f"{self.name}@{h}"


def _literal(node: ast.AST) -> Any:
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None


def _is_gau_subclass(cls: ast.ClassDef) -> bool:
    for b in cls.bases:
        name = b.id if isinstance(b, ast.Name) else b.attr if isinstance(b, ast.Attribute) else ""
        if name == "GAUBase":
            return True
    return False


def parse_unit_source(code: str, path: str = "", design: str = "", source: str = "seeds") -> UnitRecord | None:
    """A UnitRecord from unit source text, or None when it holds no GAUBase subclass and no SPEC."""
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        log.warning("skipping unit %s: syntax error %s", path or "<code>", exc)
        return None
    spec: dict = {}
    desc = ""
    children: list = []
    for node in tree.body:
        targets = []
        if isinstance(node, ast.Assign):
            targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
            value = node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            targets, value = [node.target.id], node.value
        for t in targets:
            if t == "SPEC":
                spec = _literal(value) or {}
            elif t == "DESC":
                desc = _literal(value) or ""
            elif t == "CHILDREN":
                children = _literal(value) or []
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef) and _is_gau_subclass(n)]
    if not classes and not spec:
        return None
    cls = classes[0] if classes else None
    name = spec.get("unitname") if isinstance(spec, dict) else None
    name = name or (cls.name if cls else Path(path).stem)
    doc = ast.get_docstring(cls) if cls else None
    parts = [str(p).strip() for p in (desc, spec.get("document") if isinstance(spec, dict) else "", doc) if p]
    seen: list[str] = []
    for p in parts:  # the same text is often in DESC and the docstring
        if p not in seen:
            seen.append(p)
    as_tuple = lambda v: tuple(str(x) for x in v) if isinstance(v, (list, tuple)) else ()  # noqa: E731
    return UnitRecord(name=str(name), description="\n".join(seen), code=code, source=source, path=path,
                      design=design, inputs=as_tuple(spec.get("inputs")) if isinstance(spec, dict) else (),
                      outputs=as_tuple(spec.get("outputs")) if isinstance(spec, dict) else (),
                      children=as_tuple(children))


def read_unit_file(path: Path | str, design: str = "", source: str = "seeds") -> UnitRecord | None:
    path = Path(path)
    try:
        code = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        log.warning("skipping unreadable unit file %s: %s", path, exc)
        return None
    return parse_unit_source(code, path=str(path), design=design, source=source)


def default_unit_dirs(seeds_dir: Path | str = paths.SEEDS_DIR) -> list[Path]:
    """seeds/units (the shared unit library) and every design's units/ (or the original release's src/)."""
    seeds_dir = Path(seeds_dir)
    dirs = [seeds_dir / "units"] if (seeds_dir / "units").is_dir() else []
    for d in sorted(seeds_dir.iterdir()) if seeds_dir.is_dir() else []:
        for sub in ("units", "src"):
            if d.is_dir() and (d / sub).is_dir() and d.name != "units":
                dirs.append(d / sub)
    return dirs


def scan_units(dirs: Iterable[Path | str]) -> list[UnitRecord]:
    """Every unit in the folders; a file reached twice (symlinks into seeds/units) counts once, and identical
    units (same name and code) in several designs are merged."""
    records: dict[str, UnitRecord] = {}
    seen_files: set[Path] = set()
    for d in dirs:
        d = Path(d)
        design = d.parent.name if d.name in ("units", "src") and d.parent.name != "seeds" else ""
        for f in sorted(d.glob("*.py")):
            real = f.resolve()
            if f.name.startswith("_") or real in seen_files:
                continue
            seen_files.add(real)
            rec = read_unit_file(f, design=design)
            if rec is not None and rec.key not in records:
                records[rec.key] = rec
    return sorted(records.values(), key=lambda r: (r.name, r.key))


def fingerprint_units(records: Iterable[UnitRecord]) -> str:
    h = hashlib.sha256()
    for r in sorted(records, key=lambda r: r.key):
        h.update(f"{r.key}\0{r.name}\0{r.description}\0{r.source}\0{r.design}\0".encode())
    return h.hexdigest()[:16]


def chunk_units(records: Iterable[UnitRecord], max_words: int = 120, overlap: int = 30) -> list[Chunk]:
    chunks = []
    for r in records:
        io = ""
        if r.inputs or r.outputs:
            io = f" Inputs: {', '.join(r.inputs) or '-'}; outputs: {', '.join(r.outputs) or '-'}."
        kids = f" Children: {', '.join(r.children)}." if r.children else ""
        text = (r.description or r.name) + io + kids
        chunks += chunk_document(r.key, "units", r.name, [("unit", text)], max_words, overlap)
    return chunks
