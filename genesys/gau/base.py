"""The unit interface every design is written against: GAUBase, GABBase, gau_test, UnitDecl, UnitSpec.

This file is also inlined verbatim (minus these imports) into every composed design module, which is why it
imports nothing but torch and the standard library: a composed design must run in an interpreter that has
torch and nothing of genesys.
"""
import dataclasses
import functools
import inspect
from typing import Any, Dict, List, Optional, Tuple

import torch
from torch import nn


@dataclasses.dataclass
class UnitDecl:
    """A parent's declaration of a child unit: what the child must do, before (or without) its code."""

    unitname: str
    requirements: str = ""
    inputs: List[str] = dataclasses.field(default_factory=lambda: ["X"])
    outputs: List[str] = dataclasses.field(default_factory=lambda: ["Y"])


@dataclasses.dataclass
class UnitSpec:
    """What an implemented unit promises: its name, documentation and the Z entries it reads and writes."""

    unitname: str
    document: str = ""
    inputs: List[str] = dataclasses.field(default_factory=lambda: ["X"])
    outputs: List[str] = dataclasses.field(default_factory=lambda: ["Y"])


def gau_test(fn):
    """Mark a function as a unit test of the unit defined in the same file.

    Tests take `(device=None, dtype=None)` and raise (usually AssertionError) on failure.
    """
    fn._gau_test = True
    return fn


@functools.lru_cache(maxsize=None)
def _forward_signature(cls) -> Tuple[bool, Tuple[str, ...]]:
    """(takes **kwargs, names of keyword parameters) of cls._forward, cached per class."""
    params = list(inspect.signature(cls._forward).parameters.values())[2:]  # skip self, X
    takes_all = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params)
    names = tuple(p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))
    return takes_all, names


class GAUBase(nn.Module):
    """A Generalized Autoregressive Unit: maps X (batch, seq_len, embed_dim) to Y of the same shape.

    Subclasses implement `_forward(self, X, **Z)` returning `Y` or `(Y, Z_updates)`; `forward` is final. It
    checks shapes, hands `_forward` only the Z entries its signature names (all of Z if it takes **kwargs) and
    merges the returned updates into a new Z, so units compose without knowing each other's intermediates.
    """

    # Designs written for the original Genesys release (its `src/` layout and import line) may override forward
    # with their own signature (its rwkv6 seed's DDLerpLinear does); compose() sets this in their modules only.
    original_semantics = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "forward" in cls.__dict__ and not cls.original_semantics:
            raise TypeError(f"{cls.__name__} overrides forward(); implement _forward(self, X, **Z) instead")

    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict):
        super().__init__()
        self.embed_dim = embed_dim
        self.block_loc = tuple(block_loc)
        # the very dict given, not a copy: a parent may set an entry for its children before building them
        # (the original release's seeds do, e.g. kwarg_all['rotary_emb_dim'] = head_dim)
        self.kwarg_all = kwarg_all

    def forward(self, X, **Z):
        if X.dim() != 3 or X.shape[-1] != self.embed_dim:
            raise ValueError(
                f"{type(self).__name__}: X must be (batch, seq_len, {self.embed_dim}), got {tuple(X.shape)}"
            )
        takes_all, names = _forward_signature(type(self))
        passed = dict(Z) if takes_all else {k: Z[k] for k in names if k in Z}
        out = self._forward(X, **passed)
        if isinstance(out, tuple):
            if len(out) != 2 or not isinstance(out[1], dict):
                raise TypeError(f"{type(self).__name__}._forward must return Y or (Y, dict), got a tuple of {len(out)}")
            Y, updates = out
        else:
            Y, updates = out, {}
        if not isinstance(Y, torch.Tensor) or Y.shape != X.shape:
            got = tuple(Y.shape) if isinstance(Y, torch.Tensor) else type(Y).__name__
            raise ValueError(f"{type(self).__name__}: output must have the input's shape {tuple(X.shape)}, got {got}")
        Z = dict(Z)
        Z.update(updates)
        return Y, Z


class GABBase(nn.Module):
    """A Generalized Autoregressive Block: the whole block a design defines, wrapping its root unit."""

    def __init__(self, embed_dim: int, block_loc: tuple):
        super().__init__()
        self.embed_dim = embed_dim
        self.block_loc = tuple(block_loc)

    def forward(self, X, **Z):
        Y, Z = self._forward(X, **Z)
        if Y.shape != X.shape:
            raise ValueError(f"GAB output shape {tuple(Y.shape)} differs from input shape {tuple(X.shape)}")
        return Y, Z
