"""The reference library: one YAML file per paper in seeds/library/, validated against seeds/library/_schema.yaml.

Entries are plain data (`Entry`); `load_library` reads and validates a folder, `library_fingerprint` hashes its
contents so the index is rebuilt only when the library changes.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from genesys import paths

LIBRARY_DIR = paths.SEEDS_DIR / "library"
SCHEMA_FILE = "_schema.yaml"
_TYPES = {"str": str, "int": int, "list": list}
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available: ~10x faster


def _read_yaml(path: Path) -> Any:
    return yaml.load(path.read_text(), Loader=_Loader)


class LibraryError(ValueError):
    """An entry file does not follow the schema (the message lists every problem)."""


@dataclass(frozen=True)
class Entry:
    id: str
    title: str
    year: int
    summary: str
    mechanism: str
    branches: tuple[str, ...]
    tags: tuple[str, ...]
    arxiv: str | None = None
    authors: str = ""
    seeds: tuple[str, ...] = ()
    units: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    path: str = field(default="", compare=False)

    @property
    def url(self) -> str:
        return f"https://arxiv.org/abs/{self.arxiv}" if self.arxiv else ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def load_schema(library_dir: Path | str = LIBRARY_DIR) -> dict[str, Any]:
    path = Path(library_dir) / SCHEMA_FILE
    if not path.exists():  # a user library without its own schema uses ours
        path = LIBRARY_DIR / SCHEMA_FILE
    return _read_yaml(path)


def validate_entry(data: Any, schema: dict[str, Any], stem: str | None = None) -> list[str]:
    """Every schema violation of one entry, as readable messages (empty list: valid)."""
    if not isinstance(data, dict):
        return [f"entry must be a mapping, got {type(data).__name__}"]
    errors: list[str] = []
    fields = schema["fields"]
    for key in data:
        if key not in fields:
            errors.append(f"unknown field {key!r}")
    for key, rule in fields.items():
        if key not in data:
            if rule.get("required"):
                errors.append(f"missing required field {key!r}")
            continue
        value = data[key]
        if value is None:
            if not rule.get("nullable"):
                errors.append(f"{key}: must not be null")
            continue
        typ = _TYPES[rule["type"]]
        if not isinstance(value, typ) or (typ is int and isinstance(value, bool)):
            errors.append(f"{key}: expected {rule['type']}, got {type(value).__name__}")
            continue
        if typ is str:
            if not value.strip():
                errors.append(f"{key}: empty")
            if "pattern" in rule and not re.fullmatch(rule["pattern"], value):
                errors.append(f"{key}: {value!r} does not match {rule['pattern']}")
            if "min_words" in rule and len(value.split()) < rule["min_words"]:
                errors.append(f"{key}: fewer than {rule['min_words']} words")
        if typ is int:
            if value < rule.get("min", value) or value > rule.get("max", value):
                errors.append(f"{key}: {value} out of range [{rule.get('min')}, {rule.get('max')}]")
        if typ is list:
            if len(value) < rule.get("min_items", 0):
                errors.append(f"{key}: needs at least {rule['min_items']} item(s)")
            item_typ = _TYPES[rule.get("items", "str")]
            bad = [v for v in value if not isinstance(v, item_typ)]
            if bad:
                errors.append(f"{key}: items must be {rule.get('items', 'str')}: {bad}")
            allowed = schema.get(rule["enum_ref"]) if "enum_ref" in rule else None
            if allowed is not None:
                unknown = [v for v in value if v not in allowed]
                if unknown:
                    errors.append(f"{key}: unknown value(s) {unknown}; allowed: {allowed}")
            if len(set(map(str, value))) != len(value):
                errors.append(f"{key}: duplicate items")
    if stem is not None and data.get("id") not in (None, stem):
        errors.append(f"id {data.get('id')!r} differs from file name {stem!r}")
    return errors


def entry_files(library_dir: Path | str = LIBRARY_DIR) -> list[Path]:
    return sorted(p for p in Path(library_dir).glob("*.yaml") if not p.name.startswith("_"))


def _to_entry(data: dict[str, Any], path: Path) -> Entry:
    tup = lambda key: tuple(data.get(key) or ())  # noqa: E731
    return Entry(id=data["id"], title=data["title"].strip(), year=data["year"], summary=data["summary"].strip(),
                 mechanism=data["mechanism"].strip(), branches=tup("branches"), tags=tup("tags"),
                 arxiv=data.get("arxiv"), authors=data.get("authors") or "", seeds=tup("seeds"), units=tup("units"),
                 related=tup("related"), path=str(path))


def load_library(library_dir: Path | str = LIBRARY_DIR, strict: bool = True) -> list[Entry]:
    """All entries of a library folder, sorted by id. strict: raise on any invalid entry or broken cross-reference
    (otherwise invalid entries are skipped)."""
    library_dir = Path(library_dir)
    schema = load_schema(library_dir)
    entries: list[Entry] = []
    problems: list[str] = []
    for path in entry_files(library_dir):
        try:
            data = _read_yaml(path)
        except yaml.YAMLError as exc:
            problems.append(f"{path.name}: invalid YAML: {exc}")
            continue
        errs = validate_entry(data, schema, stem=path.stem)
        if errs:
            problems.extend(f"{path.name}: {e}" for e in errs)
            continue
        entries.append(_to_entry(data, path))
    ids = {e.id for e in entries}
    for e in entries:
        missing = [r for r in e.related if r not in ids]
        if missing:
            problems.append(f"{e.id}.yaml: related ids not in the library: {missing}")
    arxiv_seen: dict[str, str] = {}
    for e in entries:
        if e.arxiv and e.arxiv in arxiv_seen:
            problems.append(f"{e.id}.yaml: arXiv id {e.arxiv} already used by {arxiv_seen[e.arxiv]}")
        elif e.arxiv:
            arxiv_seen[e.arxiv] = e.id
    if problems and strict:
        raise LibraryError("invalid reference library:\n  " + "\n  ".join(problems))
    return entries


def library_fingerprint(library_dir: Path | str = LIBRARY_DIR) -> str:
    """Content hash of every entry file (names and bytes) and the schema."""
    h = hashlib.sha256()
    library_dir = Path(library_dir)
    for path in [*entry_files(library_dir), library_dir / SCHEMA_FILE]:
        if path.exists():
            h.update(path.name.encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:16]
