"""The store's tables as SQLAlchemy 2 typed declarative models (the migrations in ``migrations/`` create them).

Designs are the evolution tree's nodes; verifications are the (design, rung, seed) training jobs that workers
claim with a lease; sessions and events are the run's log; ``state`` holds JSON values the run resumes from
(sampler and budget state).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, MetaData, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from genesys.evolution.store.types import UTCDateTime

# Named constraints, so later migrations can alter them on every backend (SQLite batch mode needs the names).
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# JSON where SQL NULL (not the JSON literal null) means "absent", so IS NULL finds it.
NullableJSON = JSON(none_as_null=True)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class RunSession(Base):
    """One designer / verifier / orchestrator session (a process or a job) of the run."""

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    worker: Mapped[str] = mapped_column(String(128))
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Design(Base):
    """A node of the evolution tree: a checked design with its composed code and how it was made."""

    __tablename__ = "designs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    struct_hash: Mapped[str] = mapped_column(String(128), unique=True)
    tree: Mapped[dict[str, Any]] = mapped_column(JSON)
    code: Mapped[str] = mapped_column(Text)
    parents: Mapped[list[str]] = mapped_column(JSON)
    mode: Mapped[str] = mapped_column(String(32))
    operator: Mapped[str | None] = mapped_column(String(64))
    proposal: Mapped[str | None] = mapped_column(Text)
    review: Mapped[str | None] = mapped_column(Text)
    checker_report: Mapped[dict[str, Any] | None] = mapped_column(NullableJSON)
    status: Mapped[str] = mapped_column(String(32), index=True)
    status_reason: Mapped[str | None] = mapped_column(Text)
    is_seed: Mapped[bool] = mapped_column(Boolean)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("sessions.id"))
    meta: Mapped[dict[str, Any] | None] = mapped_column(NullableJSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Verification(Base):
    """One training of a design at a rung with a seed; claimed by a worker under a lease."""

    __tablename__ = "verifications"
    __table_args__ = (
        UniqueConstraint("design_id", "rung", "seed", name="uq_verifications_design_rung_seed"),
        Index("ix_verifications_status_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    design_id: Mapped[int] = mapped_column(ForeignKey("designs.id"))
    rung: Mapped[str] = mapped_column(String(64))
    seed: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    worker: Mapped[str | None] = mapped_column(String(128))
    lease_token: Mapped[str | None] = mapped_column(String(32))
    lease_expires: Mapped[datetime | None] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer)
    record: Mapped[dict[str, Any] | None] = mapped_column(NullableJSON)
    stop_reason: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    wandb_run_id: Mapped[str | None] = mapped_column(String(128))
    slurm_job_id: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Event(Base):
    """An append-only log entry (design added, verification failed, budget released, ...)."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(64), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("sessions.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class State(Base):
    """A named JSON value the run resumes from (sampler state, budget counters)."""

    __tablename__ = "state"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[Any] = mapped_column(NullableJSON, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LLMCall(Base):
    """One LLM call of a design session (the ledger): who asked, which model answered, what it measured."""

    __tablename__ = "llm_calls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("sessions.id"), index=True)
    ticket: Mapped[int | None] = mapped_column(Integer, index=True)
    role: Mapped[str] = mapped_column(String(32))
    stage: Mapped[str | None] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(String(200))
    prompt_tokens: Mapped[int | None] = mapped_column(Integer)
    completion_tokens: Mapped[int | None] = mapped_column(Integer)
    cost_usd: Mapped[float | None] = mapped_column(Float)
    latency_s: Mapped[float | None] = mapped_column(Float)
    cached: Mapped[bool] = mapped_column(Boolean)
    ok: Mapped[bool] = mapped_column(Boolean)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LLMCache(Base):
    """A model's answer to an exact request (keyed by the request's hash): a rerun replays it without a call."""

    __tablename__ = "llm_cache"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
