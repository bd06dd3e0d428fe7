"""The designer interface: what the orchestrator hands a designer and what it gets back.

A designer never touches the store: the orchestrator selects the parents and the mode (genesys.evolution.selection),
builds a `DesignRequest`, and stores the `DesignOutcome` (the design if one was made, and every attempt, so each
operator's yield can be measured). Untrusted code (anything a designer wrote) only runs inside the checker's sandbox.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, List, Optional, Protocol

from genesys.gau import GAUTree


@dataclass
class Parent:
    """A design the request builds on (mutation: one; crossover: two or more; scratch: none)."""
    name: str
    tree: GAUTree
    fitness: Optional[float] = None


@dataclass
class DesignRequest:
    mode: str                                   # "mutation" | "crossover" | "scratch"
    parents: List[Parent]
    seed: int                                   # the only source of randomness of this request
    library: List[GAUTree] = field(default_factory=list)   # every design seen so far (seeds first): units to reuse
    is_known: Callable[[str], bool] = lambda struct_hash: False   # a structural hash already in the store
    max_attempts: int = 8                       # tries before the designer gives up on this request
    memory: Optional[dict] = None               # `w_mem`: {operator: {"attempts", "valid"}} of earlier attempts


@dataclass
class Attempt:
    """One try: the operator used, and whether its child passed (or why not)."""
    operator: str
    valid: bool
    reason: Optional[str] = None                # why it was rejected: "duplicate", "checker: causality ...", ...
    seconds: float = 0.0


@dataclass
class DesignOutcome:
    tree: Optional[GAUTree]                     # None: every attempt failed
    name: Optional[str] = None
    mode: str = "mutation"
    parents: List[str] = field(default_factory=list)
    operator: Optional[str] = None              # the operator that made the accepted design
    struct_hash: Optional[str] = None
    proposal: str = ""                          # what was changed and why, in words (the LLM designer's proposal)
    review: Optional[str] = None
    checker_report: Optional[dict] = None       # the accepted design's checker report (Report.to_dict())
    attempts: List[Attempt] = field(default_factory=list)
    cost_usd: Optional[float] = None            # LLM designers only; measured or absent


class Designer(Protocol):
    def design(self, request: DesignRequest) -> DesignOutcome: ...
