"""The run's side of one design session, over the store (implements designers.DesignContext): the LLM designer
keeps its ledger, traces, checkpoints and response cache here without touching the store itself."""
from __future__ import annotations

from collections import defaultdict
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

CHECKPOINT_KEY = "design_checkpoint/{ticket}"


def model_outcomes(designs: Iterable[Mapping[str, Any]], calls: Iterable[Mapping[str, Any]],
                   fitness: Mapping[str, float]) -> List[Tuple[str, float, float]]:
    """(model, cost USD, fitness gain) for every model that worked on a design whose fitness is known (pure).

    designs: {name, parents, ticket, is_seed}; calls: ledger rows {ticket, model, cost_usd}. The gain is the design's
    fitness minus its best parent's (a scratch design: minus the seeds' mean); the cost is what that model's calls
    of the design's session cost (unknown costs add nothing). These feed the bandit routing (gain per dollar)."""
    designs = list(designs)
    seed_fit = [fitness[d["name"]] for d in designs if d.get("is_seed") and fitness.get(d["name"]) is not None]
    cost: Dict[int, Dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for c in calls:
        if c.get("ticket") is not None:
            cost[c["ticket"]][c["model"]] += c.get("cost_usd") or 0.0
    out = []
    for d in designs:
        f, ticket = fitness.get(d["name"]), d.get("ticket")
        if f is None or ticket is None or ticket not in cost:
            continue
        parents = [fitness[p] for p in d.get("parents") or () if fitness.get(p) is not None]
        base = max(parents) if parents else (sum(seed_fit) / len(seed_fit) if seed_fit and not d.get("parents")
                                             else None)
        if base is None:
            continue
        out.extend((model, spent, f - base) for model, spent in cost[ticket].items())
    return out


class StoreDesignContext:
    def __init__(self, store, session_id: Optional[int], ticket: int, fitness: Optional[Mapping[str, float]] = None):
        self.store, self.session_id, self.ticket = store, session_id, ticket
        self.fitness = dict(fitness or {})        # the population's fitness when the session started

    def record_call(self, call: Dict[str, Any]) -> None:
        self.store.record_llm_call({**call, "session_id": self.session_id, "ticket": self.ticket})

    def trace(self, kind: str, payload: Dict[str, Any]) -> None:
        self.store.event("trace", {"ticket": self.ticket, "kind": kind, **payload}, session_id=self.session_id)

    def load_checkpoint(self) -> Optional[Dict[str, Any]]:
        return self.store.get_state(CHECKPOINT_KEY.format(ticket=self.ticket))

    def save_checkpoint(self, value: Dict[str, Any]) -> None:
        self.store.set_state(CHECKPOINT_KEY.format(ticket=self.ticket), value)

    def cache_get(self, key: str) -> Optional[Dict[str, Any]]:
        return self.store.cache_get(key)

    def cache_put(self, key: str, value: Dict[str, Any]) -> None:
        self.store.cache_put(key, value)

    def proposals(self) -> List[Dict[str, Any]]:
        """Other sessions' proposals: stored designs', then those reviewed or filtered but not implemented (trace
        events). This ticket's own are left out, so a rerun of a session sees what its first run saw (and replays
        from the cache)."""
        out = [{"name": d.name, "parents": list(d.parents), "text": d.proposal or "", "review": d.review,
                "rating": (d.meta or {}).get("rating"), "implemented": True}
               for d in self.store.designs() if d.proposal and (d.meta or {}).get("ticket") != self.ticket]
        for e in self.store.events(kind="trace"):
            if e.payload.get("kind") == "proposal" and e.payload.get("ticket") != self.ticket:
                p = e.payload
                out.append({"name": p.get("name"), "parents": p.get("parents") or [], "text": p.get("text") or "",
                            "review": p.get("review"), "rating": p.get("rating"), "implemented": False})
        return out

    def run_spent_usd(self) -> float:
        return self.store.llm_spent()

    def model_outcomes(self) -> List[Tuple[str, float, float]]:
        designs = [{"name": d.name, "parents": list(d.parents), "is_seed": d.is_seed,
                    "ticket": (d.meta or {}).get("ticket")} for d in self.store.designs()]
        calls = [{"ticket": c.ticket, "model": c.model, "cost_usd": c.cost_usd} for c in self.store.llm_calls()]
        return model_outcomes(designs, calls, self.fitness)
