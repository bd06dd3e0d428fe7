"""Roles: which units may replace which.

A unit may take another's place when both have the same role and the candidate's SPEC reads and writes exactly
what the slot's UnitDecl (in every parent) promises. Roles of the seeds' units are a static table; a unit this
designer made carries its role in its DESC tag (`[role: norm]`); other new units are placed by the words in
their name or the parent's declaration, and otherwise get a role of their own (`own:<Name>`: only variants of
the same unit replace them).
"""
from __future__ import annotations

import re
from typing import Dict, Optional, Tuple

from genesys.gau import GAUTree

NORM, SEQ, CHANNEL, POSITIONAL, CONV, CORE, BLOCK = (
    "norm", "seq_mixer", "channel_mixer", "positional", "conv", "core", "block")
# roles whose units map X -> Y as a whole sub-layer: what insert may add and scratch assembles from
STAGE_ROLES = (SEQ, CHANNEL)

SEED_ROLES = {
    "RMSNorm": NORM, "LayerNorm": NORM,
    "MHA": SEQ, "Mamba2Mixer": SEQ, "MultiScaleRetention": SEQ, "RWKV6TimeMix": SEQ, "TTTLinear": SEQ,
    "CausalConv1d": CONV,
    "SwiGLU": CHANNEL, "RWKV6ChannelMix": CHANNEL,
    "RotaryEmbedding": POSITIONAL,
    "SSDCore": CORE, "RetentionCore": CORE, "RWKV6WKV": CORE,
    "RWKV6DDLerp": "own:RWKV6DDLerp", "RWKV6Lerp": "own:RWKV6Lerp", "RWKV6MixLoRA": "own:RWKV6MixLoRA",
    "RWKV6DecayLoRA": "own:RWKV6DecayLoRA",
    "GPT2Block": BLOCK, "Mamba2Block": BLOCK, "RetNetBlock": BLOCK, "RWKV6Block": BLOCK, "TTTBlock": BLOCK,
}
_TAG = re.compile(r"\[role: ([\w:]+)\]")
_WORDS = ((NORM, r"norm"), (POSITIONAL, r"rotary|rope|positional|position"),
          (CHANNEL, r"mlp|ffn|feedforward|glu|channel"),
          (SEQ, r"attention|attn|mha|mixer|retention|ssm|mamba|recurren|token mixer"))


def role_tag(role: str) -> str:
    """The DESC prefix that records the role of a unit this designer generated or moved."""
    return f"[role: {role}] "


def interface(inputs, outputs) -> Tuple[tuple, tuple]:
    return tuple(inputs), tuple(outputs)


def unit_interface(tree: GAUTree, name: str) -> Tuple[tuple, tuple]:
    spec = tree.units[name].spec
    return interface(spec.inputs, spec.outputs)


def slot_interfaces(tree: GAUTree, name: str) -> set:
    """What every parent declares for `name` (empty for the root)."""
    return {interface(tree.units[p].decl_for(name).inputs, tree.units[p].decl_for(name).outputs)
            for p in tree.parents(name)}


def base_name(name: str) -> str:
    """A unit's name without the `_2`-style suffix added when resolving a name clash."""
    return re.sub(r"_\d+$", "", name)


def position_roles(trees) -> Dict[Tuple[str, int], str]:
    """(parent unit name, child index) -> the role of the child there, from designs whose roles are known (the
    seeds): a new unit standing at such a position takes the role of what it replaced."""
    out: Dict[Tuple[str, int], str] = {}
    for tree in trees:
        for parent in tree.implemented():
            for i, child in enumerate(tree.units[parent].children):
                if child in tree.units:
                    out.setdefault((parent, i), role_of(tree, child))
    return out


def role_of(tree: GAUTree, name: str, positions: Optional[Dict[Tuple[str, int], str]] = None) -> str:
    """Tag, else the seeds' table, else the role of what stood at the same place in a seed, else the root is a
    block, else words in the name and the parent's declaration, else a role of its own."""
    node = tree.units[name]
    tagged = _TAG.search(node.desc or "")
    if tagged:
        return tagged.group(1)
    if base_name(name) in SEED_ROLES:
        return SEED_ROLES[base_name(name)]
    for parent in tree.parents(name):
        index = tree.units[parent].children.index(name)
        if positions and (base_name(parent), index) in positions:
            return positions[(base_name(parent), index)]
    if name == tree.root:
        return BLOCK
    parents = tree.parents(name)
    text = " ".join([name] + [tree.units[p].decl_for(name).requirements for p in parents]).lower()
    for role, pattern in _WORDS:
        if re.search(pattern, text):
            return role
    return f"own:{base_name(name)}"


def fits(tree: GAUTree, slot: str, inputs, outputs) -> bool:
    """Whether a unit with this SPEC interface may stand where `slot` stands in `tree`."""
    wanted = slot_interfaces(tree, slot) or {unit_interface(tree, slot)}
    return wanted == {interface(inputs, outputs)}


def role_name(role: Optional[str]) -> str:
    return (role or "unit").replace("_", " ").replace("own:", "")
