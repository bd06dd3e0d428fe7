"""The evolution store: one object for designs, verifications (with leases), sessions, events and state."""
from __future__ import annotations

from genesys.evolution.store.base import StoreBase
from genesys.evolution.store.claims import ClaimsMixin
from genesys.evolution.store.designs import DesignsMixin
from genesys.evolution.store.journal import JournalMixin
from genesys.evolution.store.ledger import LedgerMixin
from genesys.evolution.store.reconnect import retry_public_methods
from genesys.evolution.store.release import ReleaseMixin
from genesys.evolution.store.tickets import TicketsMixin


@retry_public_methods
class Store(DesignsMixin, ClaimsMixin, ReleaseMixin, JournalMixin, TicketsMixin, LedgerMixin, StoreBase):
    """Designs, verifications (leases), sessions, events, state, and the LLM ledger and cache.

    SQLite file in the run folder by default (several local processes), PostgreSQL by URL (many nodes).

    Open it in each process (``Store.open(run_folder)``); rows come back as frozen dataclasses, never live ORM
    objects, and every call is its own short transaction (run again on a dropped connection: reconnect.py).
    """
