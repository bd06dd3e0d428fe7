"""The store's connection handling: opening (with the schema upgrade), short read and write transactions."""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from genesys.evolution.store.engine import WRITE_OPTION, make_engine, resolve_url
from genesys.evolution.store.migrate import upgrade

SUPPORTED_DIALECTS = ("sqlite", "postgresql")
MAX_ATTEMPTS = 3  # failed verification attempts (all rungs together) before a design is marked failed


class StoreBase:
    """Owns the engine. Every public call is one short transaction of its own, so no caller ever holds the
    write lock while doing work (training, checking) between calls."""

    def __init__(self, engine: Engine, *, max_attempts: int = MAX_ATTEMPTS):
        if engine.dialect.name not in SUPPORTED_DIALECTS:
            raise ValueError(f"the store runs on {', '.join(SUPPORTED_DIALECTS)}, not {engine.dialect.name}")
        self._engine = engine
        self.max_attempts = max_attempts

    @classmethod
    def open(cls, target: str | os.PathLike, *, max_attempts: int = MAX_ATTEMPTS):
        """Open the store at a run folder (``<folder>/evolution.db``), an SQLite file or a database URL, and
        upgrade its schema to the newest migration (idempotent; safe when several processes open it at once)."""
        engine = make_engine(resolve_url(target))
        if engine.dialect.name not in SUPPORTED_DIALECTS:
            engine.dispose()
            raise ValueError(f"the store runs on {', '.join(SUPPORTED_DIALECTS)}, not {engine.dialect.name}")
        upgrade(engine)
        return cls(engine, max_attempts=max_attempts)

    @property
    def url(self) -> str:
        """The database URL, password hidden."""
        return self._engine.url.render_as_string(hide_password=True)

    @property
    def engine(self) -> Engine:
        return self._engine

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def _read(self) -> Iterator[Session]:
        with Session(self._engine, expire_on_commit=False) as session, session.begin():
            yield session

    @contextmanager
    def _write(self) -> Iterator[Session]:
        """A write transaction: ``BEGIN IMMEDIATE`` on SQLite (the write lock up front, waiting up to the busy
        timeout for it), a plain transaction on PostgreSQL (where the statements take row locks)."""
        with self._engine.connect().execution_options(**{WRITE_OPTION: True}) as conn:
            with Session(bind=conn, expire_on_commit=False) as session, session.begin():
                yield session

    def _insert(self, entity):
        """The dialect's INSERT, which has ON CONFLICT on both backends."""
        dialect = postgresql if self._engine.dialect.name == "postgresql" else sqlite
        return dialect.insert(entity)
