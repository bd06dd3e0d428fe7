"""The run's side of one design session, over the store (implements designers.DesignContext): the LLM designer
keeps its ledger, traces, checkpoints and response cache here without touching the store itself."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

CHECKPOINT_KEY = "design_checkpoint/{ticket}"


class StoreDesignContext:
    def __init__(self, store, session_id: Optional[int], ticket: int):
        self.store, self.session_id, self.ticket = store, session_id, ticket

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
