"""The store's designs, sessions, events and state: round trips and refusals, on SQLite and PostgreSQL."""
from __future__ import annotations

import dataclasses
from datetime import timezone
from pathlib import Path

import pytest

from genesys.evolution.store import DesignRow, DuplicateDesign, Store
from tests.evolution.store_helpers import add


def test_design_round_trip(store):
    session_id = store.start_session("designer", "w0", {"designer": "symbolic"})
    seed = add(store, "gpt2", is_seed=True, meta={"params": 123})
    tree = {"root": "Block", "units": {"Block": {"children": ["Attn", "MLP"], "kwargs": {"n_heads": 4}}}}
    child = store.add_design(
        "gpt2-swap-mlp", tree, "class GAB: ...\n", "abc123", ["gpt2"], "mutation", operator="swap",
        proposal="swap the MLP", review="looks fine", checker_report={"passed": True, "checks": ["forward"]},
        session_id=session_id, meta={"params": 456, "note": "ünïcode"})

    again = store.design("gpt2-swap-mlp")
    assert isinstance(again, DesignRow)
    assert again == child
    assert (again.tree, again.code, again.parents, again.mode, again.operator) == (
        tree, "class GAB: ...\n", ["gpt2"], "mutation", "swap")
    assert (again.proposal, again.review, again.checker_report) == (
        "swap the MLP", "looks fine", {"passed": True, "checks": ["forward"]})
    assert (again.status, again.status_reason, again.is_seed, again.session_id) == ("valid", None, False, session_id)
    assert again.meta == {"params": 456, "note": "ünïcode"}
    assert again.created_at.tzinfo is not None and again.created_at.utcoffset().total_seconds() == 0
    assert seed.is_seed and seed.meta == {"params": 123} and seed.checker_report is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        again.status = "failed"

    assert [d.name for d in store.designs()] == ["gpt2", "gpt2-swap-mlp"]  # insertion order
    assert store.design("missing") is None
    assert store.name_for_hash("abc123") == "gpt2-swap-mlp"
    assert store.name_for_hash("nope") is None


def test_duplicate_hash_and_name_are_refused(store):
    add(store, "gpt2", struct_hash="h-gpt2")
    with pytest.raises(DuplicateDesign, match="gpt2") as same_hash:
        add(store, "gpt2-renamed", struct_hash="h-gpt2")
    assert (same_hash.value.existing, same_hash.value.field) == ("gpt2", "struct_hash")
    with pytest.raises(DuplicateDesign, match="gpt2") as same_name:
        add(store, "gpt2", struct_hash="h-other")
    assert (same_name.value.existing, same_name.value.field) == ("gpt2", "name")
    assert [d.name for d in store.designs()] == ["gpt2"]  # nothing half-stored


def test_parents_must_be_stored(store):
    with pytest.raises(ValueError, match="ghost"):
        add(store, "orphan", parents=["ghost"])
    assert store.designs() == []


def test_design_status(store):
    add(store, "a")
    add(store, "b")
    store.set_design_status("a", "failed", "does not train")
    assert (store.design("a").status, store.design("a").status_reason) == ("failed", "does not train")
    assert [d.name for d in store.designs(status="valid")] == ["b"]
    assert [d.name for d in store.designs(status="failed")] == ["a"]
    with pytest.raises(KeyError):
        store.set_design_status("ghost", "failed")


def test_state_get_set(store):
    assert store.get_state("sampler") is None
    assert store.get_state("sampler", default={"fresh": True}) == {"fresh": True}
    store.set_state("sampler", {"rng": [1, 2, 3], "step": 7})
    store.set_state("budget", {"cpu_xs": 4.5})
    store.set_state("sampler", {"rng": [4], "step": 8})  # replaced, not duplicated
    assert store.get_state("sampler") == {"rng": [4], "step": 8}
    assert store.get_state("budget") == {"cpu_xs": 4.5}
    store.set_state("count", 3)
    assert store.get_state("count") == 3


def test_events_and_sessions(store):
    session_id = store.start_session("verifier", "host:1", {"rungs": ["cpu_xs"]})
    first = store.event("design_added", {"name": "a"}, session_id=session_id)
    second = store.event("budget_released", {"rung": "cpu_s"})
    third = store.event("design_added", {"name": "b"})
    assert first < second < third
    assert [e.payload["name"] for e in store.events(kind="design_added")] == ["a", "b"]
    assert [e.id for e in store.events(since_id=first)] == [second, third]
    assert store.events(kind="design_added")[0].session_id == session_id
    assert store.events()[0].created_at.tzinfo is not None

    store.end_session(session_id, "finished")
    (session,) = store.sessions()
    assert (session.kind, session.worker, session.config, session.status) == (
        "verifier", "host:1", {"rungs": ["cpu_xs"]}, "finished")
    assert session.ended_at >= session.started_at
    with pytest.raises(KeyError):
        store.end_session(999, "finished")


def test_open_a_run_folder_and_reopen(tmp_path):
    folder = tmp_path / "runs" / "r1"
    with Store.open(folder) as store:
        add(store, "a")
        assert store.url.endswith("/runs/r1/evolution.db")
    assert (folder / "evolution.db").is_file()
    with Store.open(folder) as again:  # reopening upgrades nothing and keeps the data
        assert [d.name for d in again.designs()] == ["a"]
    with Store.open(f"sqlite:///{folder / 'evolution.db'}") as by_url:
        assert by_url.design("a").created_at.tzinfo == timezone.utc


def test_sqlite_runs_in_wal_mode(tmp_path):
    with Store.open(tmp_path) as store:
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000
    assert Path(tmp_path / "evolution.db").exists()


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_in_memory_sqlite_is_refused(url):
    with pytest.raises(ValueError, match="in-memory"):
        Store.open(url)
