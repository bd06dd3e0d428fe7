"""The proposal stage (DESIGN §8): literature search in up to 3 rounds, a proposal naming the unit it changes, a
novelty filter against stored proposals (cheaper than a review), and the reviewer's rating (pass >= 4); a failed
proposal and its review go into the next attempt."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Callable, List, Optional, Sequence

import numpy as np

from genesys.agents import prompts
from genesys.agents.llm.redact import redact
from genesys.agents.schemas import Proposal, Review, SearchStep
from genesys.evolution.designers import DesignRequest

log = logging.getLogger(__name__)
Embed = Callable[[Sequence[str]], np.ndarray]


@dataclass
class ProposalSettings:
    search_rounds: int = 3
    attempts: int = 10                 # proposals written (each reviewed or filtered)
    unit_retries: int = 5              # a selected unit that is not in the parent: asked again this often
    review_pass: int = 4
    novelty_threshold: Optional[float] = 0.92   # cosine similarity to a stored proposal above this: rejected
    literature: bool = True            # False: the `wo_lit` ablation (no search)
    review: bool = True


@dataclass
class ProposalResult:
    proposal: Optional[Proposal]
    review: Optional[Review] = None
    attempts: int = 0
    failures: List[str] = field(default_factory=list)


def _text(p: Proposal) -> str:
    return f"{p.name}: {p.abstract}\n{p.proposal}"


def _units(request: DesignRequest) -> List[str]:
    return request.parents[0].tree.implemented() if request.parents else []


def search_literature(chat, request: DesignRequest, settings: ProposalSettings, knowledge) -> str:
    """The proposer writes its own queries (keywords and a description) until it says it is ready."""
    if not settings.literature or knowledge is None or settings.search_rounds <= 0:
        return ""
    found: List[str] = []
    results = ""
    for round_ in range(1, settings.search_rounds + 1):
        msgs = prompts.messages("proposer", request.mode, "proposer_system", "search", round=round_,
                                rounds=settings.search_rounds, results=results)
        step = chat.ask("proposer", msgs, SearchStep, stage="search").parsed
        if step.ready or not (step.keywords or step.description):
            break
        query = " ".join(step.keywords + [step.description]).strip()
        hits = knowledge.search(query, k=3)
        results = "\n".join(h.as_text() for h in hits)
        found.append(f"### {query}\n{results}")
    return "\n\n".join(found)


def similar(text: str, earlier: List[dict], embed: Optional[Embed], k: int) -> List[dict]:
    """The k earlier proposals most similar to `text` (cosine similarity of sentence embeddings)."""
    if embed is None or not earlier:
        return []
    vectors = embed([text] + [e["text"] for e in earlier])
    vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    sims = vectors[1:] @ vectors[0]
    order = np.argsort(-sims)[:k]
    return [{**earlier[i], "similarity": float(sims[i])} for i in order]


def propose(chat, request: DesignRequest, settings: ProposalSettings, knowledge=None, embed: Optional[Embed] = None,
            context=None) -> ProposalResult:
    literature = search_literature(chat, request, settings, knowledge)
    parents = [{"name": p.name, "fitness": p.fitness, "view": p.tree.view(with_code=request.mode != "scratch")}
               for p in request.parents]
    units = _units(request)
    earlier = [e for e in (context.proposals() if context is not None else []) if e.get("text")]
    result = ProposalResult(None)
    wrong_unit = 0
    while result.attempts < settings.attempts:
        msgs = prompts.messages("proposer", request.mode, "proposer_system", "proposer", parents=parents, units=units,
                                literature=literature, failures=result.failures[-3:])
        proposal = chat.ask("proposer", msgs, Proposal, stage="proposal").parsed
        if request.mode != "scratch" and proposal.selected_unit not in units:
            wrong_unit += 1
            result.failures.append(f"`selected_unit` {proposal.selected_unit!r} is not a unit of "
                                   f"{request.parents[0].name}; choose one of {', '.join(units)}")
            if wrong_unit > settings.unit_retries:
                result.attempts += 1
                wrong_unit = 0
            continue
        if request.mode == "scratch" and not (proposal.selected_unit or "").isidentifier():
            proposal.selected_unit = "Block"
        result.attempts += 1
        text = _text(proposal)
        close = similar(text, earlier, embed, k=3)
        if settings.novelty_threshold is not None and close and close[0]["similarity"] > settings.novelty_threshold:
            reason = (f"too close to the earlier proposal {close[0]['name']} (similarity {close[0]['similarity']:.2f}); "
                      f"propose something different")
            result.failures.append(reason)
            _trace(context, proposal, request, None, reason)
            continue
        if not settings.review:
            result.proposal = proposal
            return result
        siblings = [e for e in earlier if request.parents and request.parents[0].name in (e.get("parents") or [])][:2]
        msgs = prompts.messages("reviewer", request.mode, "reviewer_system", "reviewer", proposal=proposal,
                                parents=[p.name for p in request.parents], similar=close, siblings=siblings)
        review = chat.ask("reviewer", msgs, Review, stage="review").parsed
        _trace(context, proposal, request, review, None)
        if review.rating >= settings.review_pass:
            result.proposal, result.review = proposal, review
            return result
        result.failures.append(f"the proposal {proposal.name} was rated {review.rating:g}/5: {review.review} "
                               f"{review.suggestions}".strip())
        earlier.append({"name": proposal.name, "parents": [p.name for p in request.parents], "text": text})
    return result


def _trace(context, proposal: Proposal, request: DesignRequest, review: Optional[Review], rejected: Optional[str]):
    if context is None:
        return
    context.trace("proposal", {"name": proposal.name, "parents": [p.name for p in request.parents],
                               "mode": request.mode, "selected_unit": proposal.selected_unit,
                               "text": redact(_text(proposal)), "rating": review.rating if review else None,
                               "review": redact(review.review) if review else None, "rejected": rejected,
                               "prompt_version": prompts.version("proposer")})
