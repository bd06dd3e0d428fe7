"""Store fixtures: each store test runs on a fresh SQLite file and, where PostgreSQL binaries exist, on a fresh
database of a throw-away PostgreSQL server started once per session."""
from __future__ import annotations

import itertools

import pytest

from tests.evolution import pg_server

_database_ids = itertools.count()


@pytest.fixture(scope="session")
def postgres():
    bin_folder = pg_server.find_bin()
    if bin_folder is None:
        pytest.skip("PostgreSQL binaries (initdb, pg_ctl) not found: set GENESYS_PG_BIN or install postgresql")
    server = pg_server.start(bin_folder)
    yield server
    server.stop()


def _fresh_database(server: pg_server.PgServer) -> str:
    import psycopg

    name = f"store_test_{next(_database_ids)}"
    with psycopg.connect(host=str(server.folder), user=pg_server.USER, dbname="postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')  # a generated identifier, not user input
    return server.url(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_target(request, tmp_path):
    """Where to open a store: a run folder (SQLite) or a URL of a new, empty PostgreSQL database."""
    if request.param == "sqlite":
        return tmp_path / "run"
    return _fresh_database(request.getfixturevalue("postgres"))


@pytest.fixture
def store(store_target):
    from genesys.evolution.store import Store

    opened = Store.open(store_target)
    yield opened
    opened.close()
