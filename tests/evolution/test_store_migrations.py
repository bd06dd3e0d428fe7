"""The shipped migrations build the schema from nothing, match the models exactly, and survive a race of openers."""
from __future__ import annotations

import multiprocessing
import sqlite3

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from genesys.evolution.store import Store
from genesys.evolution.store.engine import enable_wal, make_engine, resolve_url
from genesys.evolution.store.migrate import alembic_config, current_revision, head_revision, upgrade
from genesys.evolution.store.models import Base

TABLES = {"designs", "verifications", "sessions", "events", "state", "llm_calls", "llm_cache"}
JOIN_DEADLINE_S = 60


def test_migrations_create_the_schema_from_empty(store_target):
    engine = make_engine(resolve_url(store_target))
    try:
        assert set(inspect(engine).get_table_names()) == set()
        assert current_revision(engine) is None
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        assert set(inspect(engine).get_table_names()) == TABLES | {"alembic_version"}
        unique = {tuple(u["column_names"]) for u in inspect(engine).get_unique_constraints("verifications")}
        assert ("design_id", "rung", "seed") in unique
        upgrade(engine)  # idempotent
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_models_match_the_migrations(store_target):
    """Autogenerate finds nothing to change between the migrated database and the models."""
    engine = make_engine(resolve_url(store_target))
    try:
        upgrade(engine)
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
            diff = compare_metadata(context, Base.metadata)
        assert diff == []
    finally:
        engine.dispose()


def test_downgrade_to_empty_and_back(store_target):
    engine = make_engine(resolve_url(store_target))
    try:
        upgrade(engine)
        with engine.begin() as conn:
            command.downgrade(alembic_config(conn), "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade(engine)
        assert set(inspect(engine).get_table_names()) == TABLES | {"alembic_version"}
    finally:
        engine.dispose()


def _open_and_add(folder, name, go, results):
    go.wait(JOIN_DEADLINE_S)
    try:
        with Store.open(folder) as store:
            store.add_design(name, {}, "", f"hash-{name}", [], "scratch")
        results.put((name, "ok"))
    except Exception as error:  # reported to the parent, which fails the test with it
        results.put((name, repr(error)))


def test_processes_opening_a_new_file_at_once_upgrade_it_once(tmp_path):
    ctx = multiprocessing.get_context("fork")
    go, results = ctx.Event(), ctx.Queue()
    names = [f"d{i}" for i in range(6)]
    procs = [ctx.Process(target=_open_and_add, args=(tmp_path, n, go, results)) for n in names]
    for p in procs:
        p.start()
    go.set()
    outcomes = dict(results.get(timeout=JOIN_DEADLINE_S) for _ in procs)
    for p in procs:
        p.join(JOIN_DEADLINE_S)
        assert p.exitcode == 0
    assert outcomes == {n: "ok" for n in names}
    with Store.open(tmp_path) as store:
        assert sorted(d.name for d in store.designs()) == names
        assert current_revision(store.engine) == head_revision()


class _LockedCursor:
    """A cursor whose WAL switch finds the file locked `locked` times (what SQLite answered one of six processes
    opening a new file at once, without waiting on its busy timeout), then succeeds."""

    def __init__(self, locked, error="database is locked"):
        self.locked, self.error, self.calls = locked, error, 0

    def execute(self, sql):
        assert sql == "PRAGMA journal_mode = WAL"
        self.calls += 1
        if self.calls <= self.locked:
            raise sqlite3.OperationalError(self.error)


def test_the_wal_switch_waits_out_a_locked_file_within_the_busy_timeout():
    cursor = _LockedCursor(locked=3)
    enable_wal(cursor, timeout_s=5)
    assert cursor.calls == 4
    with pytest.raises(sqlite3.OperationalError, match="locked"):      # still locked at the deadline: the error
        enable_wal(_LockedCursor(locked=10 ** 6), timeout_s=0.2)
    other = _LockedCursor(locked=1, error="disk I/O error")             # any other error: at once
    with pytest.raises(sqlite3.OperationalError, match="disk"):
        enable_wal(other, timeout_s=5)
    assert other.calls == 1
