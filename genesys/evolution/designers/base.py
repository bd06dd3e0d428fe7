"""The designer interface: what the orchestrator hands a designer and what it gets back.

A designer never touches the store: the orchestrator selects the parents and the mode (genesys.evolution.selection),
builds a `DesignRequest`, and stores the `DesignOutcome` (the design if one was made, and every attempt, so each
operator's yield can be measured). Untrusted code (anything a designer wrote) only runs inside the checker's sandbox.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Protocol, Tuple

from genesys.gau import GAUTree


@dataclass
class Parent:
    """A design the request builds on (mutation: one; crossover: two or more; scratch: none)."""
    name: str
    tree: GAUTree
    fitness: Optional[float] = None


class DesignContext(Protocol):
    """What a designer may keep in the run while it works, without touching the store itself (the worker implements
    it over the store). The symbolic designer ignores it; the LLM designer keeps its ledger, traces, checkpoints
    and response cache here, so a crashed session resumes and a rerun replays."""
    session_id: Optional[int]
    ticket: int                                  # the design's index in the run (one ticket = one design session)

    def record_call(self, call: Dict[str, Any]) -> None: ...       # one LLM call: role, model, tokens, cost, latency
    def trace(self, kind: str, payload: Dict[str, Any]) -> None: ...   # an attempt, a checker report, a rating ...
    def load_checkpoint(self) -> Optional[Dict[str, Any]]: ...    # this ticket's last checkpoint (None: start)
    def save_checkpoint(self, value: Dict[str, Any]) -> None: ...
    def cache_get(self, key: str) -> Optional[Dict[str, Any]]: ...  # a stored response for an exact request
    def cache_put(self, key: str, value: Dict[str, Any]) -> None: ...
    def proposals(self) -> List[Dict[str, Any]]: ...               # earlier proposals: name, parents, text, rating
    def run_spent_usd(self) -> float: ...                          # measured LLM cost of the whole run so far
    def model_outcomes(self) -> List[Tuple[str, float, float]]: ...  # (model, cost, fitness gain) of earlier designs


@dataclass
class DesignRequest:
    mode: str                                   # "mutation" | "crossover" | "scratch"
    parents: List[Parent]
    seed: int                                   # the only source of randomness of this request
    library: List[GAUTree] = field(default_factory=list)   # every design seen so far (seeds first): units to reuse
    is_known: Callable[[str], bool] = lambda struct_hash: False   # a structural hash already in the store
    max_attempts: int = 8                       # tries before the designer gives up on this request
    memory: Optional[dict] = None               # `w_mem`: {operator: {"attempts", "valid"}} of earlier attempts
    context: Optional[DesignContext] = None     # the run's side of a design session (None: nothing is kept)


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
