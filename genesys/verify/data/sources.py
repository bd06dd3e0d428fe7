"""Where documents come from: the Python standard library, a Hugging Face dataset, or local files.

Every source returns {split: datasets.Dataset with a "text" column}; a source that ships its own held-out
splits (like the SmolLM corpus' eval/test) returns them, otherwise only "train" and the caller splits by
document. `fingerprint` identifies the exact inputs, so the cache rebuilds when they change.
"""
from __future__ import annotations

import glob
import hashlib
import os
import sysconfig
from pathlib import Path
from typing import Dict, List

import datasets

TEXT_SUFFIXES = {".txt", ".md", ".py", ".text"}


def stdlib_files(exclude: List[str]) -> List[Path]:
    """The running Python's standard-library .py files (sorted); excluded directory names are not entered."""
    root = Path(sysconfig.get_paths()["stdlib"])
    skip = set(exclude)
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in skip and d != "__pycache__"]
        found.extend(Path(folder, f) for f in files if f.endswith(".py") and f not in skip)
    return sorted(found)


def files_fingerprint(paths: List[Path]) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(str(p).encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


def _documents_from_files(paths: List[Path]) -> datasets.Dataset:
    """One document per file (decoded as UTF-8, undecodable bytes replaced); empty files are skipped."""
    texts = [p.read_text(encoding="utf-8", errors="replace") for p in paths]
    return datasets.Dataset.from_dict({"text": [t for t in texts if t.strip()]})


def expand_files(patterns: List[str]) -> List[Path]:
    """Paths, directories (searched recursively) and globs (`**` allowed), expanded to a sorted file list."""
    out = set()
    for pattern in patterns:
        p = Path(pattern).expanduser()
        if p.is_dir():
            out.update(q for q in p.rglob("*") if q.is_file())
        elif p.is_file():
            out.add(p)
        else:
            matches = [Path(m) for m in glob.glob(str(p), recursive=True) if Path(m).is_file()]
            if not matches:
                raise FileNotFoundError(f"no data files match {pattern!r}")
            out.update(matches)
    return sorted(out)


def _load_files(paths: List[Path], text_field: str) -> datasets.Dataset:
    """Local files by type: parquet and jsonl rows are documents; any other text file is one document."""
    kinds = {p.suffix for p in paths}
    if kinds <= {".parquet"}:
        ds = datasets.load_dataset("parquet", data_files=[str(p) for p in paths], split="train")
    elif kinds <= {".jsonl", ".json"}:
        ds = datasets.load_dataset("json", data_files=[str(p) for p in paths], split="train")
    elif not kinds & {".parquet", ".jsonl", ".json"}:
        return _documents_from_files(paths)
    else:
        raise ValueError(f"mixing table files and text files in one data config is not supported: {sorted(kinds)}")
    return _text_only(ds, text_field)


def _text_only(ds: datasets.Dataset, text_field: str) -> datasets.Dataset:
    if text_field not in ds.column_names:
        raise KeyError(f"text field {text_field!r} not in columns {ds.column_names}")
    ds = ds.select_columns([text_field])
    if text_field != "text":
        ds = ds.rename_column(text_field, "text")
    return ds.filter(lambda t: bool(t and t.strip()), input_columns="text")


def _load_hf(cfg) -> Dict[str, datasets.Dataset]:
    """A hub (or local) dataset, optionally several subsets concatenated; held-out splits kept if named.

    With `hf.data_files` (a pattern with {subset} and {split}) exactly those files are read, which works the
    same on the hub and on a local copy; otherwise subsets are data_dir's and splits the dataset's own.
    """
    subsets = list(cfg.hf.get("subsets") or [None])
    pattern = cfg.hf.get("data_files")
    out: Dict[str, datasets.Dataset] = {}
    for split, name in dict(cfg.hf.splits).items():
        if name is None:
            continue
        parts = []
        for subset in subsets:
            if pattern:
                files = pattern.format(subset=subset, split=name)
                parts.append(datasets.load_dataset(cfg.hf.path, data_files=files, split="train",
                                                   revision=cfg.hf.get("revision")))
            else:
                parts.append(datasets.load_dataset(cfg.hf.path, name=cfg.hf.get("name"), data_dir=subset,
                                                   split=name, revision=cfg.hf.get("revision")))
        out[split] = _text_only(datasets.concatenate_datasets(parts), cfg.text_field)
    return out


def load_source(cfg) -> Dict[str, datasets.Dataset]:
    """The documents of a data config, by split (always "train"; "validation"/"test" if the source has them)."""
    if cfg.source == "stdlib":
        return {"train": _documents_from_files(stdlib_files(list(cfg.exclude)))}
    if cfg.source == "files":
        return {"train": _load_files(expand_files(list(cfg.files)), cfg.text_field)}
    if cfg.source == "hf":
        return _load_hf(cfg)
    raise ValueError(f"unknown data source {cfg.source!r} (stdlib | files | hf)")


def fingerprint(cfg, docs: Dict[str, datasets.Dataset] | None = None) -> str:
    """Content identity of the inputs: file bytes for local sources (no parsing needed, so a cache hit is
    instant), datasets' own fingerprints of the loaded splits for hub datasets."""
    if cfg.source == "stdlib":
        return files_fingerprint(stdlib_files(list(cfg.exclude)))
    if cfg.source == "files":
        return files_fingerprint(expand_files(list(cfg.files)))
    docs = docs if docs is not None else load_source(cfg)
    h = hashlib.sha256()
    for split in sorted(docs):
        h.update(split.encode())
        h.update(docs[split]._fingerprint.encode())
    return h.hexdigest()[:16]
