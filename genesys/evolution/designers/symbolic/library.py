"""The unit library: every unit implementation seen so far, each with its subtree, role and interface.

A library unit is self-contained: its subtree is copied out of the design it came from with that design's
effective hyper-parameter values baked into the units' ARGS, so it behaves the same wherever it lands.
Implementations are deduplicated by their subtree hash (the first design that brought one names it).
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
from typing import Dict, Iterable, List

from genesys.evolution.designers.symbolic.roles import position_roles, role_of, unit_interface
from genesys.gau import GAUTree, TreeError, load_design
from genesys.gau.hashing import subtree_hash
from genesys.paths import SEEDS_DIR, seed_names


@dataclasses.dataclass
class LibraryUnit:
    name: str
    design: str                 # the design it was first seen in
    role: str
    inputs: tuple
    outputs: tuple
    tree: GAUTree               # the unit (root) and its descendants, hyper-parameters baked in
    key: str                    # subtree hash: equal keys are interchangeable implementations


def effective_args(tree: GAUTree) -> Dict[str, object]:
    try:
        return tree.kwarg_all()
    except TreeError:
        return dict(tree.args)


def subtree(tree: GAUTree, name: str) -> GAUTree:
    """A standalone copy of `name` and its descendants, each unit's ARGS set to the values the design uses."""
    eff = effective_args(tree)
    names = GAUTree(name=tree.name, root=name, units=tree.units).implemented()
    sub = GAUTree(name=f"{tree.name}:{name}", root=name, semantics=tree.semantics,
                  units={n: dataclasses.replace(tree.units[n]) for n in names}).copy()
    for node in sub.units.values():
        node.args = {k: eff.get(k, v) for k, v in node.args.items()}
    return sub


def unit_key(tree: GAUTree, name: str) -> str:
    """The subtree hash of `name` with the design's effective hyper-parameter values."""
    return subtree_hash(subtree(tree, name), name)


def key_under(tree: GAUTree, name: str, design_args: Dict[str, object]) -> str:
    """The subtree hash of `name` in `tree` as it would behave in a design whose args are `design_args` (a
    design-level value overrides every unit's default of that name)."""
    sub = subtree(tree, name)
    for node in sub.units.values():
        node.args = {k: design_args.get(k, v) for k, v in node.args.items()}
    return subtree_hash(sub, name)


def units_of(tree: GAUTree) -> List[LibraryUnit]:
    out = []
    positions = seed_positions()
    for name in tree.implemented():
        sub = subtree(tree, name)
        inputs, outputs = unit_interface(tree, name)
        out.append(LibraryUnit(name, tree.name, role_of(tree, name, positions), inputs, outputs, sub,
                               subtree_hash(sub, name)))
    return out


@functools.lru_cache(maxsize=1)
def seed_trees() -> tuple:
    return tuple(load_design(SEEDS_DIR / n) for n in seed_names())


def _fingerprint(tree: GAUTree) -> str:
    """A cheap exact key of a tree's contents (no parsing), for the per-design cache."""
    parts = [tree.name, tree.root, tree.semantics, repr(sorted(tree.args.items(), key=str))]
    for name in sorted(tree.units):
        node = tree.units[name]
        parts += [name, node.code, repr(sorted(node.args.items(), key=str)), repr(node.children),
                  repr(node.spec), node.desc or "", repr(node.decls)]
    return hashlib.sha1("\x00".join(parts).encode()).hexdigest()


@functools.lru_cache(maxsize=1)
def seed_positions() -> dict:
    return position_roles(seed_trees())


class UnitLibrary:
    """Units of the seeds and of the given designs, deduplicated; per-design results are cached by hash."""

    def __init__(self):
        self._cache: Dict[str, List[LibraryUnit]] = {}

    def build(self, designs: Iterable[GAUTree]) -> List[LibraryUnit]:
        seen, out = set(), []
        for tree in list(seed_trees()) + list(designs):
            try:
                h = _fingerprint(tree)
                if h not in self._cache:
                    self._cache[h] = units_of(tree)
            except (TreeError, SyntaxError, KeyError):  # an unreadable design brings nothing
                continue
            for unit in self._cache[h]:
                if unit.key not in seen:
                    seen.add(unit.key)
                    out.append(unit)
        return out

