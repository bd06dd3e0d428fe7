"""Plain frozen snapshots of stored rows, safe to pass across sessions, threads and processes."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from genesys.evolution.store.models import Design, Event, RunSession, Verification


class DuplicateDesign(ValueError):
    """The design's structural hash or name is already stored; ``existing`` names the stored design."""

    def __init__(self, message: str, existing: str, field: str):
        super().__init__(message)
        self.existing = existing
        self.field = field


class LeaseLost(RuntimeError):
    """The verification is no longer this claim's (its lease expired and it was re-queued or taken over)."""


@dataclass(frozen=True)
class DesignRow:
    id: int
    name: str
    struct_hash: str
    tree: dict[str, Any]
    code: str
    parents: list[str]
    mode: str
    operator: str | None
    proposal: str | None
    review: str | None
    checker_report: dict[str, Any] | None
    status: str
    status_reason: str | None
    is_seed: bool
    session_id: int | None
    meta: dict[str, Any] | None
    created_at: datetime


@dataclass(frozen=True)
class VerificationRow:
    id: int
    design: str
    rung: str
    seed: int
    status: str  # pending | running | done | failed
    worker: str | None
    lease_expires: datetime | None
    heartbeat_at: datetime | None
    attempts: int
    record: dict[str, Any] | None
    stop_reason: str | None
    error: str | None
    wandb_run_id: str | None
    slurm_job_id: str | None
    started_at: datetime | None
    finished_at: datetime | None


@dataclass(frozen=True)
class Claim:
    """A worker's hold on one verification; ``token`` tells this claim apart from a later one by the same worker."""

    verification_id: int
    design: str
    rung: str
    seed: int
    worker: str
    token: str
    lease_expires: datetime
    attempts: int  # failed attempts before this one


@dataclass(frozen=True)
class EventRow:
    id: int
    kind: str
    payload: dict[str, Any]
    session_id: int | None
    created_at: datetime


@dataclass(frozen=True)
class SessionRow:
    id: int
    kind: str
    worker: str
    config: dict[str, Any]
    status: str
    started_at: datetime
    ended_at: datetime | None


def design_row(d: Design) -> DesignRow:
    return DesignRow(
        id=d.id, name=d.name, struct_hash=d.struct_hash, tree=d.tree, code=d.code, parents=list(d.parents),
        mode=d.mode, operator=d.operator, proposal=d.proposal, review=d.review, checker_report=d.checker_report,
        status=d.status, status_reason=d.status_reason, is_seed=d.is_seed, session_id=d.session_id, meta=d.meta,
        created_at=d.created_at)


def verification_row(v: Verification, design_name: str) -> VerificationRow:
    return VerificationRow(
        id=v.id, design=design_name, rung=v.rung, seed=v.seed, status=v.status, worker=v.worker,
        lease_expires=v.lease_expires, heartbeat_at=v.heartbeat_at, attempts=v.attempts, record=v.record,
        stop_reason=v.stop_reason, error=v.error, wandb_run_id=v.wandb_run_id, slurm_job_id=v.slurm_job_id,
        started_at=v.started_at, finished_at=v.finished_at)


def event_row(e: Event) -> EventRow:
    return EventRow(id=e.id, kind=e.kind, payload=e.payload, session_id=e.session_id, created_at=e.created_at)


def session_row(s: RunSession) -> SessionRow:
    return SessionRow(id=s.id, kind=s.kind, worker=s.worker, config=s.config, status=s.status,
                      started_at=s.started_at, ended_at=s.ended_at)
