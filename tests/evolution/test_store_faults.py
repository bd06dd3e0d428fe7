"""The store under faults: PostgreSQL restarted while workers claim and complete (they reconnect, nothing is lost or
done twice), and text with SQL metacharacters written through every kind of store call comes back unchanged (the
store writes through bound parameters only)."""
from __future__ import annotations

import importlib.util
import sys
import threading
import time

import pytest
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import DBAPIError

from genesys.evolution.store import Store
from genesys.evolution.store.reconnect import is_disconnect
from genesys.paths import REPO_ROOT
from tests.evolution import pg_server
from tests.evolution.store_helpers import add

_spec = importlib.util.spec_from_file_location("bench_store", REPO_ROOT / "bench" / "store.py")
bench_store = importlib.util.module_from_spec(_spec)
sys.modules["bench_store"] = bench_store      # dataclasses look their module up there
_spec.loader.exec_module(bench_store)

NASTY = ["x'); DROP TABLE designs;--", 'a"b\\c', "%s %(name)s :name ? $1", "名前 🧬", "';SELECT pg_sleep(5);--",
         "Robert'); DELETE FROM verifications WHERE ('1'='1"]


@pytest.fixture
def own_postgres():
    """A server of this test's own (it gets restarted)."""
    server = pg_server.start_or_skip()
    yield server
    server.stop()


def test_postgres_restart_under_load_loses_nothing(own_postgres):
    url = own_postgres.url()
    outcome = {}
    load = threading.Thread(target=lambda: outcome.update(result=bench_store.run_load(
        url, "postgresql", workers=4, run_s=10.0, designs=300, drain_s=20.0, deadline_s=30.0)))
    load.start()
    before, deadline = 0, time.monotonic() + 60
    while not before and time.monotonic() < deadline:     # wait until the workers are at work
        time.sleep(1)
        try:
            with Store.open(url) as probe:
                before = len(probe.verifications(status="done"))
        except Exception:  # the schema is still being created
            continue
    own_postgres.restart("fast")        # ends every open connection, refuses new ones until it is back
    load.join(timeout=120)
    assert not load.is_alive(), "the load did not end"
    result = outcome["result"]
    assert before > 0 and result.reconnects > 0, (before, result.reconnects)   # the restart hit working workers
    assert bench_store.check(url, result) == []                                # all done once, no worker lost
    with Store.open(url) as store:
        assert len(store.verifications(status="done")) > before                # and the work went on after it


def test_is_disconnect_tells_a_dropped_connection_from_a_bad_statement(own_postgres):
    with Store.open(own_postgres.url()) as store:
        with pytest.raises(DBAPIError) as bad:          # a statement's own error: raised, never retried
            with store._read() as s:
                s.connection().exec_driver_sql("SELECT 1/0")
        assert not is_disconnect(bad.value)
        store.set_state("k", 1)
        own_postgres.restart("fast")                    # the pooled connection dies while idle ...
        assert store.get_state("k") == 1                # ... and the pool's pre-ping replaces it


def test_sql_metacharacters_round_trip_unchanged(store):
    for i, text in enumerate(NASTY):
        add(store, text, proposal=text, review=text, meta={text: text})
        store.event(text, {"text": text})
        store.set_state(text, {"value": text})
        claim = store.claim(text, text[:60], worker=text[:120], lease_s=60)
        store.complete(claim, {"note": text}, "completed")
    assert [d.name for d in store.designs()] == NASTY
    for text in NASTY:
        design = store.design(text)
        assert (design.proposal, design.review, design.meta) == (text, text, {text: text})
        assert store.get_state(text) == {"value": text}
        assert [e.payload for e in store.events(kind=text)] == [{"text": text}]
        (v,) = store.verifications(design=text)
        assert (v.rung, v.worker, v.record) == (text[:60], text[:120], {"note": text})
    assert {"designs", "verifications", "events", "state"} <= set(sa_inspect(store.engine).get_table_names())
