"""The operators: each takes the request's parents, the unit library and the request's random generator, and
returns an Edit (the child tree and what changed, in words) or raises NoMove when it has nothing to do here.

mutation: swap, insert, delete, hparam; crossover: graft; scratch: scratch. Every edit goes through
transplant(), so name clashes, shared units and colliding hyper-parameters are handled one way.
"""
from __future__ import annotations

import dataclasses
import random
from typing import Callable, Dict, List, Optional, Tuple

from genesys.evolution.designers.symbolic.hparams import mutate_value
from genesys.evolution.designers.symbolic.library import (
    LibraryUnit, effective_args, key_under, seed_positions, subtree, unit_key, units_of)
from genesys.evolution.designers.symbolic.roles import (
    BLOCK, CHANNEL, CONV, NORM, POSITIONAL, SEQ, STAGE_ROLES, fits, role_name, role_of, role_tag)
from genesys.evolution.designers.symbolic.templates import identity_unit, prenorm_block, stage_unit
from genesys.evolution.designers.symbolic.transplant import fresh_name, transplant
from genesys.gau import GAUTree

DELETABLE = (NORM, CHANNEL, POSITIONAL, CONV)


class NoMove(Exception):
    """The operator has no applicable edit for these parents and this library."""


@dataclasses.dataclass
class Edit:
    tree: GAUTree
    proposal: str          # what changed, in words
    label: str             # a short slug for the child's name (the unit or key that changed)
    replaced: Optional[str] = None   # the unit (slot) of the parent that was replaced ...
    placed: Optional[str] = None     # ... and the name of what stands there in the child


@dataclasses.dataclass
class Context:
    parents: List[GAUTree]
    library: List[LibraryUnit]
    rng: random.Random


def _role(tree: GAUTree, name: str) -> str:
    return role_of(tree, name, seed_positions())


def _where(tree: GAUTree, slot: str) -> str:
    parents = tree.parents(slot)
    return parents[0] if parents else tree.name


def _tag_role(donor: GAUTree, role: str) -> GAUTree:
    """Record the role on a moved unit whose role would not be recognised from its name in its new place."""
    donor = donor.copy()
    node = donor.units[donor.root]
    if role_tag(role).strip() not in node.desc and not role.startswith("own:"):
        node.desc = role_tag(role) + node.desc
    return donor


def _candidates(tree: GAUTree, slot: str, units: List[LibraryUnit]) -> List[LibraryUnit]:
    role, key = _role(tree, slot), unit_key(tree, slot)
    return [u for u in units if u.role == role and u.tree.semantics == tree.semantics
            and fits(tree, slot, u.inputs, u.outputs) and key_under(u.tree, u.name, tree.args) != key]


def _slots(tree: GAUTree) -> List[str]:
    return [n for n in tree.implemented() if n != tree.root]


def swap(ctx: Context) -> Edit:
    """Replace one unit (with its subtree) by another implementation of the same role from the library."""
    tree = ctx.parents[0]
    options = [(s, c) for s in _slots(tree) for c in [_candidates(tree, s, ctx.library)] if c]
    if not options:
        raise NoMove("no unit has another implementation of its role in the library")
    slot, cands = ctx.rng.choice(options)
    unit = ctx.rng.choice(cands)
    child, root, notes = transplant(tree, slot, _tag_role(unit.tree, unit.role))
    text = f"swapped {slot} ({tree.name}) for {unit.name} ({unit.design}) in {_where(tree, slot)}"
    if unit.name == slot:
        differs = {k: v for n in unit.tree.implemented() for k, v in unit.tree.units[n].args.items()
                   if effective_args(tree).get(k, v) != v}
        text += f" (the same unit with {unit.design}'s hyper-parameters: {differs})" if differs else " (other code)"
    return Edit(child, _with_notes(text, notes), unit.name, slot, root)


def graft(ctx: Context) -> Edit:
    """Crossover: a subtree of parent B replaces the subtree of the same role in parent A."""
    if len(ctx.parents) < 2:
        raise NoMove("crossover needs two parents")
    a = ctx.parents[0]
    b = ctx.rng.choice(ctx.parents[1:])
    donors = [u for u in units_of(b) if u.name != b.root]
    options = [(s, c) for s in _slots(a) for c in [_candidates(a, s, donors)] if c]
    if not options:
        raise NoMove(f"{b.name} has no unit of a role found in {a.name} that differs from it")
    slot, cands = ctx.rng.choice(options)
    unit = ctx.rng.choice(cands)
    child, root, notes = transplant(a, slot, _tag_role(unit.tree, unit.role))
    text = f"grafted {unit.name} from {b.name} in place of {slot} in {_where(a, slot)} of {a.name}"
    return Edit(child, _with_notes(text, notes), unit.name, slot, root)


def _stub_tree(root_node, stubs: Dict[str, str], extra: Dict[str, GAUTree] = None) -> GAUTree:
    """A donor tree: a template root whose children are identity stubs (replaced next) and given subtrees."""
    tree = GAUTree(name="donor", root=root_node.name, units={root_node.name: root_node})
    for name, role in stubs.items():
        tree.units[name] = identity_unit(name, role)
    for sub in (extra or {}).values():
        for name, node in sub.units.items():
            tree.units.setdefault(name, node)
    return tree


def _fill(tree: GAUTree, stub: str, unit: LibraryUnit) -> Tuple[GAUTree, str, List[str]]:
    return transplant(tree, stub, _tag_role(unit.tree, unit.role))


def _is_stage(unit: LibraryUnit) -> bool:
    """An inserted stage (a wrapper of two mixers): not itself inserted or built into new blocks, so stages
    do not nest without bound."""
    return "[stage]" in (unit.tree.units[unit.tree.root].desc or "")


def insert(ctx: Context) -> Edit:
    """Add a stage: the unit in a mixer slot is followed, inside that slot, by a pre-norm residual mixer."""
    tree = ctx.parents[0]
    slots = [s for s in _slots(tree) if _role(tree, s) in STAGE_ROLES and fits(tree, s, ["X"], ["Y"])]
    seconds = [u for u in ctx.library if u.role in STAGE_ROLES and (u.inputs, u.outputs) == (("X",), ("Y",))
               and u.tree.semantics == tree.semantics and not _is_stage(u)]
    norms = [u for u in ctx.library if u.role == NORM and (u.inputs, u.outputs) == (("X",), ("Y",))
             and u.tree.semantics == tree.semantics]
    if not (slots and seconds and norms):
        raise NoMove("no mixer slot, or no mixer and norm in the library")
    slot, second, norm = ctx.rng.choice(slots), ctx.rng.choice(seconds), ctx.rng.choice(norms)
    taken = set(tree.reachable()) | set(second.tree.units) | set(norm.tree.units)
    name = f"{slot}Then{second.name}"
    name = fresh_name(name, taken) if name in taken else name
    stub_norm, stub_second = fresh_name("SymStubNorm", taken), fresh_name("SymStubStage", taken)
    root = stage_unit(name, slot, stub_norm, stub_second, _role(tree, slot))
    donor = _stub_tree(root, {stub_norm: NORM, stub_second: second.role}, {slot: subtree(tree, slot)})
    child, placed, notes = transplant(tree, slot, donor)
    child, _, more = _fill(child, stub_norm, norm)
    child, _, last = _fill(child, stub_second, second)
    text = (f"inserted a pre-norm residual {second.name} ({second.design}, {role_name(second.role)}) with "
            f"{norm.name} after {slot} in {_where(tree, slot)}")
    return Edit(child, _with_notes(text, notes + more + last), second.name, slot, placed)


def delete(ctx: Context) -> Edit:
    """Remove a stage: an inserted stage goes back to its first unit; a norm, channel mixer, convolution or
    positional encoding becomes the identity (NoPE for positions)."""
    tree = ctx.parents[0]
    options = []
    for s in _slots(tree):
        desc, role = tree.units[s].desc or "", _role(tree, s)
        if "[stage]" in desc and tree.units[s].children:
            options.append((s, "stage"))
        elif role in DELETABLE and "[identity]" not in desc:
            spec = identity_unit("Probe", role).spec
            if fits(tree, s, spec.inputs, spec.outputs):  # the identity must read and write what the slot does
                options.append((s, role))
    if not options:
        raise NoMove("no removable unit")
    slot, kind = ctx.rng.choice(options)
    if kind == "stage":
        first = tree.units[slot].children[0]
        child, placed, notes = transplant(tree, slot, _tag_role(subtree(tree, first), _role(tree, slot)))
        text = f"removed the stage added after {first} in {_where(tree, slot)} (back to {first} alone)"
        return Edit(child, _with_notes(text, notes), f"no_{slot}", slot, placed)
    label = "NoPE" if kind == POSITIONAL else f"No{''.join(w.title() for w in kind.split('_'))}"
    name = fresh_name(label, set(tree.reachable())) if label in tree.reachable() else label
    node = identity_unit(name, kind)
    child, placed, notes = transplant(tree, slot, GAUTree(name="donor", root=name, units={name: node}))
    text = f"removed {slot} ({role_name(kind)}) from {_where(tree, slot)}: the identity stands in its place"
    if kind == POSITIONAL:
        text = f"removed the positional encoding {slot} from {_where(tree, slot)} (NoPE)"
    return Edit(child, _with_notes(text, notes), f"no_{slot}", slot, placed)


def hparam(ctx: Context) -> Edit:
    """Change one hyper-parameter the design uses (design-level override, so every unit reading it agrees)."""
    tree = ctx.parents[0]
    args = effective_args(tree)
    moves = [(k, v) for k, v in sorted(args.items()) if mutate_value(k, v, random.Random(0)) is not None]
    if not moves:
        raise NoMove("no movable hyper-parameter")
    key, old = ctx.rng.choice(moves)
    new = mutate_value(key, old, ctx.rng)
    child = tree.copy()
    child.args[key] = new
    return Edit(child, f"changed {key} from {old!r} to {new!r} in {tree.name}", key)


def scratch(ctx: Context) -> Edit:
    """A new block: a library norm, sequence mixer and channel mixer around a pre-norm residual skeleton."""
    pools = {}
    for role in (NORM, SEQ, CHANNEL):
        pools[role] = [u for u in ctx.library if u.role == role and (u.inputs, u.outputs) == (("X",), ("Y",))
                       and u.tree.semantics == "genesys" and not _is_stage(u)]
        if not pools[role]:
            raise NoMove(f"no {role_name(role)} in the library")
    # combinations some library block already is (e.g. RMSNorm + MHA + SwiGLU = gpt2): not new, draw again
    existing = {frozenset(unit_key(u.tree, c) for c in u.tree.units[u.tree.root].children)
                for u in ctx.library if u.role == BLOCK}
    for _ in range(8):
        picks = {role: ctx.rng.choice(pool) for role, pool in pools.items()}
        if frozenset(u.key for u in picks.values()) not in existing:
            break
    else:
        raise NoMove("every combination drawn is an existing block's")
    name = f"{picks[SEQ].name}{picks[CHANNEL].name}Block".replace("_", "")
    stubs = {"SymStubNorm": NORM, "SymStubSeq": SEQ, "SymStubChannel": CHANNEL}
    root = prenorm_block(name, *stubs)
    tree = _stub_tree(root, stubs)
    tree.name = "scratch"
    notes = []
    for stub, role in stubs.items():
        tree, _, more = _fill(tree, stub, picks[role])
        notes += more
    text = (f"a new pre-norm residual block {name}: {picks[NORM].name} ({picks[NORM].design}), "
            f"{picks[SEQ].name} ({picks[SEQ].design}), {picks[CHANNEL].name} ({picks[CHANNEL].design})")
    return Edit(tree, _with_notes(text, notes), picks[SEQ].name)


def _with_notes(text: str, notes: List[str]) -> str:
    return text + (f"; hyper-parameters settled in the design's args: {', '.join(notes)}" if notes else "")


OPERATORS: Dict[str, Callable[[Context], Edit]] = {
    "swap": swap, "insert": insert, "delete": delete, "hparam": hparam, "graft": graft, "scratch": scratch}
MODES = {"mutation": ("swap", "insert", "delete", "hparam"), "crossover": ("graft",), "scratch": ("scratch",)}
