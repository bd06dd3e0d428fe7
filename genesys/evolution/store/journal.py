"""Sessions, events and the run's resumable JSON state."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from genesys.evolution.store.models import Event, RunSession, State
from genesys.evolution.store.rows import EventRow, SessionRow, event_row, session_row
from genesys.evolution.store.types import utcnow


class JournalMixin:
    def start_session(self, kind: str, worker: str, config: dict[str, Any]) -> int:
        with self._write() as s:
            session = RunSession(kind=kind, worker=worker, config=config, status="running", started_at=utcnow())
            s.add(session)
            s.flush()
            return session.id

    def end_session(self, session_id: int, status: str) -> None:
        with self._write() as s:
            ended = s.scalar(update(RunSession).where(RunSession.id == session_id)
                             .values(status=status, ended_at=utcnow()).returning(RunSession.id))
            if ended is None:
                raise KeyError(f"no session {session_id} in the store")

    def sessions(self, kind: str | None = None) -> list[SessionRow]:
        query = select(RunSession).order_by(RunSession.id)
        if kind is not None:
            query = query.where(RunSession.kind == kind)
        with self._read() as s:
            return [session_row(r) for r in s.scalars(query)]

    def event(self, kind: str, payload: dict[str, Any], session_id: int | None = None) -> int:
        """Append an event; returns its id (ids grow, so ``events(since_id=...)`` reads only newer ones)."""
        with self._write() as s:
            event = Event(kind=kind, payload=payload, session_id=session_id, created_at=utcnow())
            s.add(event)
            s.flush()
            return event.id

    def events(self, kind: str | None = None, since_id: int = 0) -> list[EventRow]:
        query = select(Event).where(Event.id > since_id).order_by(Event.id)
        if kind is not None:
            query = query.where(Event.kind == kind)
        with self._read() as s:
            return [event_row(e) for e in s.scalars(query)]

    def get_state(self, key: str, default: Any = None) -> Any:
        with self._read() as s:
            row = s.get(State, key)
            return default if row is None else row.value

    def set_state(self, key: str, value: Any) -> None:
        """Store a JSON value under ``key`` (insert or replace in one statement)."""
        now = utcnow()
        statement = self._insert(State).values(key=key, value=value, updated_at=now)
        statement = statement.on_conflict_do_update(index_elements=["key"],
                                                    set_=dict(value=statement.excluded.value, updated_at=now))
        with self._write() as s:
            s.execute(statement)
