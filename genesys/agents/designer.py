"""The LLM designer (the paper's agents) behind the orchestrator's `Designer` interface: proposal (search, propose,
novelty filter, review) then implementation (plan, code, check, observe, unit by unit), then the full checker's
verdict on the finished design. Only valid, new designs are returned; every call is in the ledger and every step a
trace (through the request's DesignContext), and a session killed mid-way resumes from its last frozen unit."""
from __future__ import annotations

import logging
import time
from functools import lru_cache
from typing import Any, Callable, Dict, Optional

from genesys.agents.implementation import ImplementationSettings, Implementer
from genesys.agents.llm.client import LLMClient
from genesys.agents.llm.config import AgentsConfig
from genesys.agents.llm.types import CostCapReached, LLMError
from genesys.agents.proposal import ProposalSettings, propose
from genesys.evolution.designers import Attempt, DesignOutcome, DesignRequest
from genesys.gau import GAUTree
from genesys.gau.hashing import structural_hash

log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def _encoder():
    """The knowledge engine's sentence encoder, loaded once per process (several designers share it)."""
    from genesys.knowledge.embed import load_embedder
    return load_embedder().encode


def _fields(cls, values: Dict[str, Any]) -> Dict[str, Any]:
    return {k: v for k, v in values.items() if k in cls.__dataclass_fields__ and v is not None}


class LLMDesigner:
    def __init__(self, agents: Dict[str, Any], proposal: Optional[Dict[str, Any]] = None,
                 implementation: Optional[Dict[str, Any]] = None, knowledge: Optional[Dict[str, Any]] = None,
                 check_options: Optional[Dict[str, Any]] = None, final_check_options: Optional[Dict[str, Any]] = None,
                 max_attempts: Optional[int] = None, client_factory: Optional[Callable] = None, **_):
        self.agents = AgentsConfig.from_dict(agents)
        self.proposal_settings = ProposalSettings(**_fields(ProposalSettings, proposal or {}))
        self.impl_settings = ImplementationSettings(**_fields(ImplementationSettings, implementation or {}))
        self.knowledge_cfg = knowledge
        if not knowledge or knowledge.get("mode") == "none":       # `wo_lit`: no literature search
            self.proposal_settings.literature = False
        self.check_options = dict(check_options or {})
        self.final_check_options = dict(final_check_options or {})
        self.client_factory = client_factory or (lambda cfg, context, seed: LLMClient(cfg, context, seed))
        self._knowledge = None
        self._embed = None

    # ---- lazily built helpers (a worker builds them once) ----------------------------------------------------
    def knowledge(self):
        if self._knowledge is None and self.proposal_settings.literature and self.knowledge_cfg:
            try:
                from genesys.knowledge import get_engine
                self._knowledge = get_engine(self.knowledge_cfg)
            except Exception as exc:   # noqa: BLE001 (no literature is a degraded mode, not a crash)
                log.warning("knowledge engine unavailable, proposing without literature: %s", exc)
                self.proposal_settings.literature = False
        return self._knowledge

    def embed(self):
        if self._embed is None and self.proposal_settings.novelty_threshold is not None:
            try:
                self._embed = _encoder()
            except Exception as exc:   # noqa: BLE001
                log.warning("no sentence encoder, the novelty filter is off: %s", exc)
                self.proposal_settings.novelty_threshold = None
        return self._embed

    def check(self, tree: GAUTree, final: bool = False):
        from genesys.checker import check
        return check(tree, **(self.final_check_options if final else self.check_options))

    # ---- one design session ----------------------------------------------------------------------------------
    def design(self, request: DesignRequest) -> DesignOutcome:
        chat = self.client_factory(self.agents, request.context, request.seed)
        parents = [p.name for p in request.parents]
        outcome = DesignOutcome(tree=None, mode=request.mode, parents=parents, operator="llm")
        start = time.monotonic()
        try:
            found = propose(chat, request, self.proposal_settings, self.knowledge(), self.embed(), request.context)
        except (CostCapReached, LLMError) as exc:
            outcome.attempts.append(Attempt("proposal", False, f"{type(exc).__name__}: {exc}",
                                            time.monotonic() - start))
            outcome.cost_usd = chat.spent_usd
            return outcome
        outcome.attempts.append(Attempt("proposal", found.proposal is not None,
                                        None if found.proposal else "; ".join(found.failures[-3:])[:500],
                                        time.monotonic() - start))
        if found.proposal is None:
            outcome.cost_usd = chat.spent_usd
            return outcome
        proposal = found.proposal
        outcome.proposal = f"{proposal.name}: {proposal.abstract}\n\n{proposal.proposal}"
        outcome.review = found.review.review if found.review else None
        result = Implementer(chat, self.impl_settings, self.check, request, proposal, request.context).run()
        outcome.attempts += result.attempts
        outcome.cost_usd = chat.spent_usd
        if result.tree is None:
            return outcome
        tree = result.tree
        if tree.unimplemented():          # placeholders compose as the identity: the checker alone would pass them
            outcome.attempts.append(Attempt("final_check", False,
                                            f"units declared but not written: {', '.join(tree.unimplemented())}"))
            return outcome
        tree.rating = float(found.review.rating) if found.review else None
        tree.review = outcome.review or ""
        report = self.check(tree, final=True)
        digest = structural_hash(tree)
        if not report.valid:
            outcome.attempts.append(Attempt("final_check", False, "; ".join(f.message for f in report.errors)[:500]))
            return outcome
        if request.is_known(digest):
            outcome.attempts.append(Attempt("final_check", False, "duplicate"))
            return outcome
        outcome.tree, outcome.name, outcome.struct_hash = tree, proposal.name, digest
        outcome.checker_report = report.to_dict()
        return outcome
