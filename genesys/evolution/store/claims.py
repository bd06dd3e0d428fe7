"""Verifications and their leases: claim, heartbeat, complete, fail, re-queue.

Rules: a (design, rung, seed) verification exists at most once (unique constraint); it is claimed either by
creating it as running (INSERT ... ON CONFLICT DO NOTHING) or by taking it over while pending (UPDATE ... WHERE
status = 'pending'), so two workers never both get it. A claim carries a fresh token; heartbeat, complete and
fail act only while the row still holds that token (else LeaseLost).

Locks on PostgreSQL (SQLite serialises writers with BEGIN IMMEDIATE instead): a transaction that locks both a
design and a verification locks the design first (claim: FOR SHARE, so it cannot interleave with a failure that
marks the design failed; fail / requeue_expired: FOR UPDATE), so no two transactions wait on each other in a cycle.
claim_pending, heartbeat and complete lock only the verification row (claim_pending with SKIP LOCKED); a pending
verification taken by claim_pending at the instant its design is failed still runs, and its record is kept.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from genesys.evolution.store.designs import FAILED as DESIGN_FAILED
from genesys.evolution.store.models import Design, Event, Verification
from genesys.evolution.store.rows import Claim, LeaseLost, VerificationRow, verification_row
from genesys.evolution.store.types import utcnow

PENDING, RUNNING, DONE, FAILED = "pending", "running", "done", "failed"
LEASE_EXPIRED = "lease expired"


class ClaimsMixin:
    def claim(self, design: str, rung: str, worker: str, lease_s: float, seed: int = 0,
              job_id: str | None = None) -> Claim | None:
        """Atomically take the (design, rung, seed) verification for ``worker``: create it as running, or take it
        over if pending. None when it runs under another lease, is done or failed for good, or the design failed.
        KeyError for a design not in the store. ``job_id``: the worker's SLURM job, kept on the verification."""
        _check_lease(lease_s)
        now, token = utcnow(), uuid.uuid4().hex
        expires = now + timedelta(seconds=lease_s)
        with self._write() as s:
            found = s.execute(select(Design.id, Design.status).where(Design.name == design)
                              .with_for_update(read=True)).one_or_none()
            if found is None:
                raise KeyError(f"no design named {design!r} in the store")
            design_id, status = found
            if status == DESIGN_FAILED:
                return None
            lease = dict(status=RUNNING, worker=worker, lease_token=token, lease_expires=expires, heartbeat_at=now,
                         started_at=now, finished_at=None, slurm_job_id=job_id)
            created = s.scalar(
                self._insert(Verification)
                .values(design_id=design_id, rung=rung, seed=seed, attempts=0, **lease)
                .on_conflict_do_nothing(index_elements=["design_id", "rung", "seed"])
                .returning(Verification.id))
            if created is not None:
                return Claim(created, design, rung, seed, worker, token, expires, attempts=0)
            taken = s.execute(
                update(Verification)
                .where(Verification.design_id == design_id, Verification.rung == rung, Verification.seed == seed,
                       Verification.status == PENDING)
                .values(**lease)
                .returning(Verification.id, Verification.attempts)).one_or_none()
            if taken is None:
                return None
            return Claim(taken.id, design, rung, seed, worker, token, expires, attempts=taken.attempts)

    def enqueue(self, design: str, rung: str, seed: int = 0) -> bool:
        """Create the verification as pending (for claim_pending) unless it exists; True when created."""
        with self._write() as s:
            design_id = s.scalar(select(Design.id).where(Design.name == design))
            if design_id is None:
                raise KeyError(f"no design named {design!r} in the store")
            created = s.scalar(
                self._insert(Verification)
                .values(design_id=design_id, rung=rung, seed=seed, status=PENDING, attempts=0)
                .on_conflict_do_nothing(index_elements=["design_id", "rung", "seed"])
                .returning(Verification.id))
            return created is not None

    def claim_pending(self, worker: str, lease_s: float, rungs: Iterable[str] | None = None,
                      job_id: str | None = None) -> Claim | None:
        """Take the oldest pending (re-queued) verification whose design has not failed, optionally only at
        ``rungs``; None when there is none."""
        _check_lease(lease_s)
        now, token = utcnow(), uuid.uuid4().hex
        expires = now + timedelta(seconds=lease_s)
        query = (select(Verification.id, Verification.attempts, Verification.rung, Verification.seed, Design.name)
                 .join(Design, Design.id == Verification.design_id)
                 .where(Verification.status == PENDING, Design.status != DESIGN_FAILED))
        if rungs is not None:
            query = query.where(Verification.rung.in_(list(rungs)))
        query = query.order_by(Verification.id).limit(1).with_for_update(of=Verification, skip_locked=True)
        with self._write() as s:
            row = s.execute(query).one_or_none()
            if row is None:
                return None
            taken = s.scalar(
                update(Verification).where(Verification.id == row.id, Verification.status == PENDING)
                .values(status=RUNNING, worker=worker, lease_token=token, lease_expires=expires, heartbeat_at=now,
                        started_at=now, finished_at=None, slurm_job_id=job_id)
                .returning(Verification.id))
            if taken is None:
                return None
            return Claim(row.id, row.name, row.rung, row.seed, worker, token, expires, attempts=row.attempts)

    def heartbeat(self, claim: Claim, lease_s: float) -> None:
        """Extend the claim's lease to now + ``lease_s``; LeaseLost when the verification is no longer this claim's."""
        _check_lease(lease_s)
        now = utcnow()
        with self._write() as s:
            self._update_held(s, claim, "heartbeat", lease_expires=now + timedelta(seconds=lease_s), heartbeat_at=now)

    def complete(self, claim: Claim, record: dict[str, Any], stop_reason: str, wandb_run_id: str | None = None) -> None:
        """Store the verification's record and mark it done; LeaseLost when it is no longer this claim's."""
        with self._write() as s:
            self._update_held(s, claim, "complete", status=DONE, record=record, stop_reason=stop_reason,
                              wandb_run_id=wandb_run_id, error=None, lease_token=None, lease_expires=None,
                              finished_at=utcnow())

    def fail(self, claim: Claim, error: str) -> VerificationRow:
        """Count a failed attempt: the verification is pending again, or failed for good (with its design) once the
        design has ``max_attempts`` failed attempts over all its verifications. LeaseLost when not this claim's."""
        with self._write() as s:
            design = s.scalar(select(Design).where(Design.name == claim.design).with_for_update())
            verification = s.scalar(select(Verification).where(
                Verification.id == claim.verification_id, Verification.status == RUNNING,
                Verification.lease_token == claim.token))
            if design is None or verification is None:
                raise LeaseLost(_lost_message(claim, "fail"))
            self._record_failure(s, verification, design, error, utcnow())
            return verification_row(verification, design.name)

    def requeue_expired(self, now: datetime | None = None) -> int:
        """Running verifications whose lease expired before ``now`` become pending again (a failed attempt with
        error "lease expired", so a design that keeps dying is failed too). Returns how many were re-queued or
        failed."""
        now = now or utcnow()
        expired = (Verification.status == RUNNING, Verification.lease_expires < now)
        with self._write() as s:
            design_ids = s.scalars(select(Verification.design_id).where(*expired).distinct()).all()
            if not design_ids:
                return 0
            designs = {d.id: d for d in s.scalars(  # lock designs before their verifications (see module doc)
                select(Design).where(Design.id.in_(design_ids)).order_by(Design.id).with_for_update())}
            rows = s.scalars(select(Verification).where(*expired, Verification.design_id.in_(design_ids))
                             .order_by(Verification.id).with_for_update()).all()
            for verification in rows:
                self._record_failure(s, verification, designs[verification.design_id], LEASE_EXPIRED, now)
            return len(rows)

    def verifications(self, design: str | None = None, rung: str | None = None, status: str | None = None,
                      seed: int | None = None) -> list[VerificationRow]:
        query = select(Verification, Design.name).join(Design, Design.id == Verification.design_id)
        for column, value in ((Design.name, design), (Verification.rung, rung), (Verification.status, status),
                              (Verification.seed, seed)):
            if value is not None:
                query = query.where(column == value)
        with self._read() as s:
            return [verification_row(v, name) for v, name in s.execute(query.order_by(Verification.id))]

    def _update_held(self, s: Session, claim: Claim, action: str, **values) -> None:
        held = s.scalar(update(Verification).where(
            Verification.id == claim.verification_id, Verification.status == RUNNING,
            Verification.lease_token == claim.token).values(**values).returning(Verification.id))
        if held is None:
            raise LeaseLost(_lost_message(claim, action))

    def _record_failure(self, s: Session, verification: Verification, design: Design, error: str,
                        now: datetime) -> None:
        worker = verification.worker
        verification.attempts += 1
        verification.error = error
        verification.lease_token = None
        verification.lease_expires = None
        verification.finished_at = now
        s.flush()
        total = s.scalar(select(func.sum(Verification.attempts)).where(Verification.design_id == design.id))
        payload = dict(design=design.name, rung=verification.rung, seed=verification.seed, worker=worker,
                       error=error, attempts=verification.attempts, design_attempts=total)
        if total >= self.max_attempts:
            verification.status = FAILED
            design.status = DESIGN_FAILED
            design.status_reason = f"{total} failed verification attempts; last: {error}"
            s.execute(update(Verification)
                      .where(Verification.design_id == design.id, Verification.status == PENDING)
                      .values(status=FAILED, error="design failed", finished_at=now))
            s.add(Event(kind="design_failed", payload=dict(design=design.name, reason=design.status_reason),
                        created_at=now))
        else:
            verification.status = PENDING
            verification.worker = None
        s.add(Event(kind="verification_failed", payload=dict(payload, status=verification.status), created_at=now))


def _check_lease(lease_s: float) -> None:
    if not lease_s > 0:
        raise ValueError(f"a lease must last some time, got lease_s={lease_s!r}")


def _lost_message(claim: Claim, action: str) -> str:
    return (f"{action}: verification {claim.design}@{claim.rung} seed {claim.seed} is no longer held by "
            f"{claim.worker} (lease expired and re-queued, or taken over)")
