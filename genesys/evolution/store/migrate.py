"""Bring a database to the newest schema with Alembic's command API (no alembic.ini needed).

The whole upgrade runs in one write transaction, under ``BEGIN IMMEDIATE`` on SQLite and a transaction-scoped
advisory lock on PostgreSQL, so several processes opening the same new database at once upgrade it exactly once:
the first creates the schema, the others wait, then find it at head and do nothing.
"""
from __future__ import annotations

import logging
from pathlib import Path

logging.getLogger("alembic").setLevel(logging.WARNING)   # before alembic loads: its import logs INFO lines in every run

from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402
from alembic.runtime.migration import MigrationContext  # noqa: E402
from alembic.script import ScriptDirectory  # noqa: E402
from sqlalchemy import Connection, Engine, text  # noqa: E402

from genesys.evolution.store.engine import WRITE_OPTION  # noqa: E402

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
PG_MIGRATION_LOCK = 0x67656E65  # advisory-lock key for schema upgrades ("gene")


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Upgrade to ``revision``; a no-op when already there (checked first without taking the write lock)."""
    if revision == "head" and current_revision(engine) == head_revision():
        return
    with engine.connect().execution_options(**{WRITE_OPTION: True}) as conn:
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_MIGRATION_LOCK})
            command.upgrade(alembic_config(conn), revision)

