"""Design tickets: a designer reserves its next design here, so a run stops at its target number of new designs.

Counting and reserving happen in one transaction that concurrent designers take one at a time (SQLite: the write
lock of BEGIN IMMEDIATE; PostgreSQL: a transaction-scoped advisory lock), so two designers racing for the last free
slot cannot both get it; the counts are taken in one statement (one snapshot), so a design stored meanwhile is
never counted as both finished and still in progress, nor as neither.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, text

from genesys.evolution.store.models import Design, Event
from genesys.evolution.store.types import utcnow

DESIGN_START = "design_start"
DESIGN_FAILURES = ("design_none", "duplicate")              # a design_start that stored nothing
DESIGN_ABANDONED = "design_abandoned"                       # the designer was stopped mid-design (Ctrl-C, SIGTERM)
DESIGN_OUTCOMES = ("design", *DESIGN_FAILURES, DESIGN_ABANDONED)   # every design_start ends in one of these
PG_TICKET_LOCK = 0x67656E66  # advisory-lock key for design reservations


def _new_designs():
    return select(func.count()).select_from(Design).where(Design.is_seed.is_(False))


def _events(kinds, since_id: int):
    return select(func.count()).select_from(Event).where(Event.id > since_id, Event.kind.in_(kinds))


class TicketsMixin:
    def new_design_count(self) -> int:
        """How many non-seed designs are stored (a count, without reading them)."""
        with self._read() as s:
            return s.scalar(_new_designs())

    def start_design(self, target: int | None, since_id: int, payload: dict[str, Any],
                     session_id: int | None = None) -> int | None:
        """Reserve a design: record `design_start` with the next ticket and return the ticket, unless the
        new designs already stored plus those started since event `since_id` and not yet ended reach `target`
        (None: no target), in which case nothing is written and None is returned.

        The ticket is the number of design outcomes so far (stored designs, failures, duplicates; not abandoned
        designs): a designer stopped or killed mid-design stored nothing, so the rerun gets the same ticket (and so
        the same seed) again."""
        with self._write() as s:
            if self._engine.dialect.name == "postgresql":
                s.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_TICKET_LOCK})
            # one statement, so one snapshot: under PostgreSQL's READ COMMITTED each statement sees the commits made
            # before it, and designs and their outcome events are written outside this lock, so counting them in
            # separate statements could see an outcome without its design (and let one design too many start)
            n_new, starts, ended, failures = s.execute(select(
                _new_designs().scalar_subquery(), _events([DESIGN_START], since_id).scalar_subquery(),
                _events(DESIGN_OUTCOMES, since_id).scalar_subquery(),
                _events(DESIGN_FAILURES, 0).scalar_subquery())).one()
            if target is not None and n_new + max(0, starts - ended) >= target:
                return None
            ticket = n_new + failures
            s.add(Event(kind=DESIGN_START, payload={**payload, "ticket": ticket}, session_id=session_id,
                        created_at=utcnow()))
            return ticket
