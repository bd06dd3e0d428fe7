"""The evolution store (SQLAlchemy 2 + Alembic): designs, verifications claimed under leases, sessions, events and
the run's resumable state, in an SQLite file in the run folder or a PostgreSQL database (DESIGN §7)."""
from genesys.evolution.store.base import MAX_ATTEMPTS
from genesys.evolution.store.claims import DONE, FAILED, LEASE_EXPIRED, PENDING, RUNNING
from genesys.evolution.store.rows import (Claim, DesignRow, DuplicateDesign, EventRow, LeaseLost, SessionRow,
                                          VerificationRow)
from genesys.evolution.store.store import Store
from genesys.evolution.store.tickets import DESIGN_ABANDONED

__all__ = ["Store", "DesignRow", "VerificationRow", "Claim", "EventRow", "SessionRow", "DuplicateDesign",
           "LeaseLost", "MAX_ATTEMPTS", "DESIGN_ABANDONED", "PENDING", "RUNNING", "DONE", "FAILED", "LEASE_EXPIRED"]
