"""Small builders shared by the store tests."""
from __future__ import annotations


def add(store, name: str, parents=(), struct_hash: str | None = None, **kwargs):
    """Store a minimal design whose hash defaults to one derived from its name."""
    tree = {"root": name, "units": {name: {"children": []}}}
    mode = kwargs.pop("mode", "mutation" if parents else "scratch")
    return store.add_design(name, tree, f"# code of {name}\n", struct_hash or f"hash-{name}", list(parents), mode,
                            **kwargs)
