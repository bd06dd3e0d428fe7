"""Readable, unique, filesystem-safe names for children: `<lineage>-<operator>-<what>-<hash6>`."""
from __future__ import annotations

import re
from typing import List


def slug(text: str, limit: int = 20) -> str:
    return re.sub(r"[^a-z0-9_]+", "", text.lower())[:limit] or "x"


def lineage(name: str) -> str:
    """The first word of a design name: its seed (or scratch), so names do not grow with every generation."""
    return slug(re.split(r"[-x]", name, maxsplit=1)[0] if "-" in name else name, 16)


def child_name(parents: List[str], operator: str, what: str, struct_hash: str) -> str:
    if operator == "scratch" or not parents:
        return f"scratch-{slug(what)}-{struct_hash[:6]}"
    elif operator == "graft" and len(parents) > 1:
        base = f"{lineage(parents[0])}x{lineage(parents[1])}"
    else:
        base = lineage(parents[0])
    return f"{base}-{operator}-{slug(what)}-{struct_hash[:6]}"
