"""Design names come from LLM output and become folder names under the run folder: keep them inside it."""
from __future__ import annotations

import re
from pathlib import Path

MAX_NAME = 100
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def safe_design_name(name: str) -> str:
    """The name as one plain folder name: runs of anything but letters, digits, ``_ . -`` become ``-``, no leading
    or trailing dots or dashes (so never ``.`` or ``..``), at most MAX_NAME characters; "design" if nothing is left."""
    cleaned = _UNSAFE.sub("-", str(name)).strip(".-")[:MAX_NAME].strip(".-")
    return cleaned or "design"


def child_folder(root: Path, name: str) -> Path:
    """``root / name`` for a name that is one path component that stays under ``root``; ValueError otherwise
    (a separator, ``..``, an absolute path, a NUL)."""
    if not name or name in (".", "..") or any(c in name for c in "/\\\0"):
        raise ValueError(f"design name {name!r} is not a plain folder name")
    root = Path(root)
    path = root / name
    if path.resolve().parent != root.resolve():
        raise ValueError(f"design name {name!r} leads outside {root}")
    return path
