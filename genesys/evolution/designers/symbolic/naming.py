"""Readable, unique, filesystem-safe names for children: `<lineage>-<operator>-<what>-<hash6>`."""
from __future__ import annotations

import re
from typing import List


def slug(text: str, limit: int = 20) -> str:
    return re.sub(r"[^a-z0-9_]+", "", text.lower())[:limit] or "x"


def lineage(name: str, seeds: tuple = ()) -> str:
    """The seed a design name starts with (a crossover's first parent's), so names do not grow with every
    generation: `gpt2-swap-...` -> gpt2, `tttxmamba2-graft-...` -> ttt; a seed's own name is kept whole."""
    token = slug(name.split("-")[0], 16)
    if "x" in token and token not in seeds and token.split("x")[0]:
        token = token.split("x")[0]
    return token


def child_name(parents: List[str], operator: str, what: str, struct_hash: str, seeds: tuple = ()) -> str:
    """`seeds`: the seed names (kept whole even when they contain an x)."""
    if operator == "scratch" or not parents:
        return f"scratch-{slug(what)}-{struct_hash[:6]}"
    elif operator == "graft" and len(parents) > 1:
        base = f"{lineage(parents[0], seeds)}x{lineage(parents[1], seeds)}"
    else:
        base = lineage(parents[0], seeds)
    return f"{base}-{operator}-{slug(what)}-{struct_hash[:6]}"
