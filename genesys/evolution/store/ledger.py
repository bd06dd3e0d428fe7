"""The LLM designer's side of the store: the ledger of calls (cost caps and reports read it) and the response cache
(a rerun replays a design session without calling the model)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from genesys.evolution.store.models import LLMCache, LLMCall
from genesys.evolution.store.types import utcnow

CALL_FIELDS = ("session_id", "ticket", "role", "stage", "model", "prompt_tokens", "completion_tokens", "cost_usd",
               "latency_s", "cached", "ok", "error")


@dataclass(frozen=True)
class LLMCallRow:
    id: int
    session_id: int | None
    ticket: int | None
    role: str
    stage: str | None
    model: str
    prompt_tokens: int | None
    completion_tokens: int | None
    cost_usd: float | None
    latency_s: float | None
    cached: bool
    ok: bool
    error: str | None
    created_at: datetime


class LedgerMixin:
    def record_llm_call(self, call: dict[str, Any]) -> int:
        """One ledger row; unknown keys are refused (a typo would silently lose a measurement)."""
        unknown = set(call) - set(CALL_FIELDS)
        if unknown:
            raise ValueError(f"unknown ledger fields: {sorted(unknown)}")
        with self._write() as s:
            row = LLMCall(**{"cached": False, "ok": True, **call}, created_at=utcnow())
            s.add(row)
            s.flush()
            return row.id

    def llm_calls(self, session_id: int | None = None, ticket: int | None = None) -> list[LLMCallRow]:
        query = select(LLMCall).order_by(LLMCall.id)
        if session_id is not None:
            query = query.where(LLMCall.session_id == session_id)
        if ticket is not None:
            query = query.where(LLMCall.ticket == ticket)
        with self._read() as s:
            return [LLMCallRow(**{f: getattr(r, f) for f in ("id", *CALL_FIELDS, "created_at")})
                    for r in s.scalars(query)]

    def llm_spent(self, session_id: int | None = None) -> float:
        """Measured cost in USD (calls whose cost is unknown add nothing; the ledger keeps them as None)."""
        query = select(func.coalesce(func.sum(LLMCall.cost_usd), 0.0))
        if session_id is not None:
            query = query.where(LLMCall.session_id == session_id)
        with self._read() as s:
            return float(s.scalar(query))

    def cache_get(self, key: str) -> dict[str, Any] | None:
        with self._read() as s:
            row = s.get(LLMCache, key)
            return None if row is None else row.value

    def cache_put(self, key: str, value: dict[str, Any]) -> None:
        """Keep the first answer for a key (a concurrent put of the same key is a no-op on both backends)."""
        statement = self._insert(LLMCache).values(key=key, value=value, created_at=utcnow())
        with self._write() as s:
            s.execute(statement.on_conflict_do_nothing(index_elements=["key"]))
