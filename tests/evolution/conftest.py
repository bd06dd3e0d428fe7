"""Store fixtures: each store test runs on a fresh SQLite file and, where PostgreSQL binaries exist, on an emptied
database of a throw-away PostgreSQL server started once per session (skipped, with the reason, without them)."""
from __future__ import annotations

import pytest

from tests.evolution import pg_server

TEST_DATABASE = "store_tests"


@pytest.fixture(scope="session")
def postgres():
    server = pg_server.start_or_skip()
    yield server
    server.stop()


def _fresh_database(server: pg_server.PgServer) -> str:
    """The session's test database, emptied (dropping and recreating its schema takes milliseconds; CREATE
    DATABASE per test took about a second)."""
    import psycopg

    with psycopg.connect(host=str(server.folder), user=pg_server.USER, dbname="postgres", autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (TEST_DATABASE,)).fetchone() is None:
            conn.execute(f"CREATE DATABASE {TEST_DATABASE}")
    with psycopg.connect(host=str(server.folder), user=pg_server.USER, dbname=TEST_DATABASE, autocommit=True) as conn:
        conn.execute("SET lock_timeout = '10s'")  # a store left open in a transaction fails the test, not hangs it
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    return server.url(TEST_DATABASE)


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
