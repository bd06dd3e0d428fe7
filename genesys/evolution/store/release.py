"""Giving verifications back without counting a failure: a worker asked to stop hands its claim back, and an
orchestrator that restarts a local run re-queues what its dead workers held (they died with the previous run)."""
from __future__ import annotations

from sqlalchemy import update

from genesys.evolution.store.claims import PENDING, RUNNING
from genesys.evolution.store.models import Event, Verification
from genesys.evolution.store.rows import Claim, LeaseLost
from genesys.evolution.store.types import utcnow


class ReleaseMixin:
    def release(self, claim: Claim) -> None:
        """Back to pending, attempts unchanged; LeaseLost when the verification is no longer this claim's."""
        with self._write() as s:
            held = s.scalar(update(Verification).where(
                Verification.id == claim.verification_id, Verification.status == RUNNING,
                Verification.lease_token == claim.token)
                .values(status=PENDING, worker=None, lease_token=None, lease_expires=None)
                .returning(Verification.id))
            if held is None:
                raise LeaseLost(f"release: verification {claim.design}@{claim.rung} seed {claim.seed} is no longer "
                                f"held by {claim.worker}")
            s.add(Event(kind="verification_released", payload=dict(design=claim.design, rung=claim.rung,
                                                                   seed=claim.seed, worker=claim.worker),
                        created_at=utcnow()))

    def release_running(self, reason: str) -> int:
        """Every running verification back to pending, attempts unchanged (for a local run's restart only: its
        workers are known dead). Returns how many."""
        with self._write() as s:
            ids = s.scalars(update(Verification).where(Verification.status == RUNNING)
                            .values(status=PENDING, worker=None, lease_token=None, lease_expires=None)
                            .returning(Verification.id)).all()
            if ids:
                s.add(Event(kind="verifications_released", payload=dict(count=len(ids), reason=reason),
                            created_at=utcnow()))
            return len(ids)
