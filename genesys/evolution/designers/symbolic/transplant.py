"""transplant(tree, slot, donor): put a donor subtree where the unit `slot` stands, the core edit of swap,
insert, delete, graft and scratch.

Name clashes are resolved by renaming the donor's unit (`RMSNorm` -> `RMSNorm_2`) unless both implementations
are the same (same subtree hash with effective hyper-parameters), in which case the tree's unit is shared.
Hyper-parameter names that now carry two defaults are settled in the design's args with the value of the unit
that comes first in tree order (the recipient's, usually), so the child composes.
"""
from __future__ import annotations

from typing import List, Set, Tuple

from genesys.evolution.designers.symbolic.library import key_under, unit_key
from genesys.gau import GAUTree, TreeError


def fresh_name(name: str, taken: Set[str]) -> str:
    i = 2
    while f"{name}_{i}" in taken:
        i += 1
    return f"{name}_{i}"


def remaining_units(tree: GAUTree, slot: str) -> Set[str]:
    """Units still reachable when `slot` (and what only it uses) is taken out."""
    cut = tree.copy()
    cut.units[slot].children = []
    return set(cut.reachable()) - {slot}


def settle_arg_collisions(tree: GAUTree, first_say: Set[str] = frozenset()) -> List[str]:
    """Put colliding hyper-parameter defaults into the design's args: the units in `first_say` (the recipient's)
    win, then the first unit in tree order."""
    settled, first = [], {}
    order = sorted(tree.implemented(), key=lambda n: n not in first_say)  # stable: tree order within each group
    for name in order:
        for key, value in tree.units[name].args.items():
            if key in tree.args:
                continue
            if key in first and first[key][1] != value:
                tree.args[key] = first[key][1]
                settled.append(f"{key}={first[key][1]!r} (from {first[key][0]}; {name} had {value!r})")
            first.setdefault(key, (name, value))
    return settled


def transplant(tree: GAUTree, slot: str, donor: GAUTree) -> Tuple[GAUTree, str, List[str]]:
    """A new tree with `donor` (its root and descendants) in place of `slot`; returns (tree, the donor root's
    name in it, notes on settled hyper-parameters). Raises TreeError when the result would be inconsistent."""
    child = tree.copy()
    donor = donor.copy()
    keep = remaining_units(child, slot)
    taken = set(keep) | set(donor.units) | {slot}
    for name in list(donor.implemented()):
        same = name in child.units and name in keep and unit_key(child, name) == key_under(donor, name, child.args)
        if name in keep and not same:
            new = fresh_name(name, taken)
            taken.add(new)
            donor.rename_unit(name, new)
    root = donor.root
    child.units[slot].children = []          # drop what only the slot used
    child.prune()
    if root in child.units and root != slot:  # an identical unit is already in the tree: share it
        child._rename_references(slot, root)
        del child.units[slot]
        if child.root == slot:
            child.root = root
    else:
        child.replace_unit(slot, donor.units[root])
    for name in donor.implemented():
        if name not in child.units:
            child.units[name] = donor.units[name]
    child.prune()
    child._refuse_cycles(child.root)
    if child.unimplemented():
        raise TreeError(f"transplant left placeholders: {child.unimplemented()}")
    notes = settle_arg_collisions(child, keep)
    return child, root, notes
