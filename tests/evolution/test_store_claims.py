"""Claiming verifications: leases, re-queue, the three-failure rule, and many processes hammering one store."""
from __future__ import annotations

import multiprocessing
import os
import random
import time
from datetime import timedelta

import pytest

from genesys.evolution.store import LEASE_EXPIRED, Claim, LeaseLost, Store
from tests.evolution.store_helpers import JOIN_DEADLINE_S, add, run_workers



def test_claim_is_exclusive_and_complete_is_final(store):
    add(store, "a")
    claim = store.claim("a", "cpu_xs", "w1", lease_s=60)
    assert isinstance(claim, Claim) and (claim.design, claim.rung, claim.seed, claim.worker) == (
        "a", "cpu_xs", 0, "w1")
    assert store.claim("a", "cpu_xs", "w2", lease_s=60) is None  # running under a live lease
    other_seed = store.claim("a", "cpu_xs", "w2", lease_s=60, seed=1)  # another seed is another verification
    assert other_seed is not None and other_seed.verification_id != claim.verification_id

    (running,) = store.verifications(design="a", seed=0)
    assert (running.status, running.worker, running.attempts) == ("running", "w1", 0)
    assert running.lease_expires - running.started_at == timedelta(seconds=60)

    store.heartbeat(claim, lease_s=120)
    assert store.verifications(seed=0)[0].lease_expires > running.lease_expires
    store.complete(claim, {"val_loss": 4.5, "params": {"total": 10}}, "max_steps", wandb_run_id="run-1")
    (done,) = store.verifications(design="a", rung="cpu_xs", seed=0)
    assert (done.status, done.worker, done.record, done.stop_reason, done.wandb_run_id) == (
        "done", "w1", {"val_loss": 4.5, "params": {"total": 10}}, "max_steps", "run-1")
    assert done.finished_at >= done.started_at and done.slurm_job_id is None
    assert store.claim("a", "cpu_xs", "w2", lease_s=60) is None  # done stays done
    with pytest.raises(LeaseLost):
        store.complete(claim, {"val_loss": 1.0}, "max_steps")  # no second completion
    with pytest.raises(KeyError):
        store.claim("ghost", "cpu_xs", "w1", lease_s=60)
    with pytest.raises(ValueError, match="lease"):
        store.claim("a", "cpu_m", "w1", lease_s=0)


def test_expired_lease_is_requeued_and_the_old_worker_loses_it(store):
    add(store, "a")
    old = store.claim("a", "cpu_xs", "w1", lease_s=30)
    assert store.requeue_expired() == 0  # the lease is live
    assert store.requeue_expired(now=old.lease_expires + timedelta(seconds=1)) == 1

    (requeued,) = store.verifications()
    assert (requeued.status, requeued.attempts, requeued.error, requeued.worker) == (
        "pending", 1, LEASE_EXPIRED, None)
    assert store.design("a").status == "valid"
    new = store.claim_pending("w2", lease_s=30)
    assert new is not None and (new.verification_id, new.worker, new.attempts) == (old.verification_id, "w2", 1)

    for lost in (lambda: store.heartbeat(old, 30), lambda: store.complete(old, {}, "max_steps"),
                 lambda: store.fail(old, "late")):
        with pytest.raises(LeaseLost):
            lost()
    store.complete(new, {"val_loss": 3.0}, "max_steps")
    (done,) = store.verifications()
    assert (done.status, done.worker, done.record) == ("done", "w2", {"val_loss": 3.0})
    (event,) = store.events(kind="verification_failed")
    assert event.payload["error"] == LEASE_EXPIRED and event.payload["worker"] == "w1"


def test_a_lease_expires_in_real_time_and_the_same_worker_cannot_reuse_its_old_claim(store):
    add(store, "a")
    old = store.claim("a", "proxy", "w1", lease_s=0.2)
    time.sleep(0.4)
    assert store.requeue_expired() == 1
    again = store.claim("a", "proxy", "w1", lease_s=60)  # same worker, new claim
    assert again is not None and again.token != old.token
    with pytest.raises(LeaseLost):
        store.heartbeat(old, 60)
    store.heartbeat(again, 60)


def test_claim_pending_takes_the_oldest_and_filters_rungs(store):
    for name in ("a", "b", "c"):
        add(store, name)
    assert store.enqueue("b", "cpu_s") and store.enqueue("a", "cpu_xs") and store.enqueue("c", "cpu_xs")
    assert not store.enqueue("a", "cpu_xs")  # already there
    first = store.claim_pending("w1", 60, rungs=["cpu_xs"])
    assert (first.design, first.rung) == ("a", "cpu_xs")
    assert (store.claim_pending("w1", 60).design) == "b"
    assert (store.claim_pending("w1", 60).design) == "c"
    assert store.claim_pending("w1", 60) is None


def test_three_failures_mark_the_design_failed_and_claims_are_refused(store):
    add(store, "bad")
    add(store, "good")
    first = store.claim("bad", "cpu_xs", "w1", 60)
    row = store.fail(first, "NaN loss")
    assert (row.status, row.attempts, row.error) == ("pending", 1, "NaN loss")
    second = store.claim_pending("w2", 60)
    assert second.verification_id == first.verification_id
    assert store.fail(second, "NaN loss").status == "pending"
    store.enqueue("bad", "cpu_s")
    third = store.claim("bad", "proxy", "w3", 60)  # attempts count over all of the design's verifications
    row = store.fail(third, "out of memory")
    assert (row.status, row.attempts) == ("failed", 1)

    design = store.design("bad")
    assert design.status == "failed" and "3 failed" in design.status_reason and "out of memory" in design.status_reason
    assert {v.rung: v.status for v in store.verifications(design="bad")} == {
        "cpu_xs": "failed", "cpu_s": "failed", "proxy": "failed"}
    assert store.claim("bad", "cpu_xs", "w1", 60) is None
    assert store.claim("bad", "cpu_m", "w1", 60) is None  # not even a new rung
    assert store.claim_pending("w1", 60) is None
    assert store.claim("good", "cpu_xs", "w1", 60) is not None  # other designs are unaffected
    assert [e.payload["design"] for e in store.events(kind="design_failed")] == ["bad"]


def test_expired_leases_count_towards_the_failure_limit(store):
    add(store, "dies")
    for attempt in range(3):
        claim = store.claim_pending("w", 1) if attempt else store.claim("dies", "cpu_xs", "w", 1)
        assert claim is not None
        assert store.requeue_expired(now=claim.lease_expires + timedelta(seconds=1)) == 1
    assert store.design("dies").status == "failed"
    assert store.verifications()[0].status == "failed"


# -- many processes, one store -------------------------------------------------------------------------------------

def _hammer(target, worker, targets, go, results):
    """Claim every target in a private random order; complete what we get; report what we claimed."""
    claimed, attempts = [], 0
    try:
        with Store.open(target) as store:
            order = list(targets)
            random.Random(worker).shuffle(order)
            go.wait(JOIN_DEADLINE_S)
            started = time.perf_counter()
            for design, rung in order:
                attempts += 1
                claim = store.claim(design, rung, worker, lease_s=120)
                if claim is None:
                    continue
                store.heartbeat(claim, lease_s=120)
                store.complete(claim, {"worker": worker, "pid": os.getpid()}, "max_steps")
                claimed.append((design, rung))
            results.put((worker, claimed, attempts, time.perf_counter() - started, None))
    except Exception as error:
        results.put((worker, claimed, attempts, 0.0, repr(error)))


def test_processes_hammering_one_store_complete_each_verification_exactly_once(store_target):
    with Store.open(store_target) as store:
        for i in range(20):
            add(store, f"d{i:02d}")
    targets = [(f"d{i:02d}", rung) for i in range(20) for rung in ("proxy", "cpu_xs", "cpu_s")]
    workers = [f"w{i}" for i in range(6)]
    reports = run_workers(_hammer, store_target, workers, targets)

    claimed_by = {}
    for worker, claimed, _, _, _ in reports:
        for target in claimed:
            assert target not in claimed_by, f"{target} given to {claimed_by[target]} and {worker}"
            claimed_by[target] = worker
    assert sorted(claimed_by) == sorted(targets)
    with Store.open(store_target) as store:
        rows = store.verifications()
    assert len(rows) == len(targets)
    assert all(r.status == "done" and r.attempts == 0 for r in rows)
    assert {(r.design, r.rung): r.worker for r in rows} == claimed_by
    assert all(r.record["worker"] == r.worker for r in rows)
    calls = sum(r[2] for r in reports) + 2 * len(targets)
    busiest = max(r[3] for r in reports)
    print(f"\n{store_target if isinstance(store_target, str) else 'sqlite'}: {len(workers)} processes, "
          f"{calls} store calls in {busiest:.2f} s ({calls / busiest:.0f}/s); claims per worker "
          f"{sorted(len(r[1]) for r in reports)}")


def _driver_connection_id(store) -> int:
    with store.engine.connect() as conn:
        return id(conn.connection.dbapi_connection)


def _claim_in_child(store, results):
    try:
        own_connection = _driver_connection_id(store)
        claim = store.claim("a", "cpu_s", "child", lease_s=60)
        store.complete(claim, {"by": "child"}, "max_steps")
        results.put(own_connection)
    except Exception as error:
        results.put(repr(error))


def test_a_store_inherited_through_fork_opens_its_own_connections(store_target):
    """A worker forked from a process that already used the store gets connections of its own (two processes on one
    SQLite handle or one PostgreSQL socket corrupt each other), and the parent's connection keeps working."""
    with Store.open(store_target) as store:
        add(store, "a")
        parent_claim = store.claim("a", "cpu_xs", "parent", lease_s=60)
        parent_connection = _driver_connection_id(store)  # the pool's one connection, inherited by the child
        ctx = multiprocessing.get_context("fork")
        results = ctx.Queue()
        child = ctx.Process(target=_claim_in_child, args=(store, results))
        child.start()
        child_connection = results.get(timeout=JOIN_DEADLINE_S)
        child.join(JOIN_DEADLINE_S)
        assert child.exitcode == 0
        assert isinstance(child_connection, int), child_connection
        assert child_connection != parent_connection
        store.complete(parent_claim, {"by": "parent"}, "max_steps")
        assert _driver_connection_id(store) == parent_connection
        assert {v.rung: v.record["by"] for v in store.verifications()} == {"cpu_xs": "parent", "cpu_s": "child"}


def _churn(target, worker, targets, deadline_s, go, results):
    """Like a flaky verifier: re-queue expired leases, take pending work first, abandon one claim in four (its short
    lease then expires), complete the rest; stop when everything is done."""
    completed, abandoned, lost = [], 0, 0
    rng = random.Random(worker)
    untried = list(targets)
    rng.shuffle(untried)
    try:
        with Store.open(target, max_attempts=1000) as store:
            go.wait(JOIN_DEADLINE_S)
            stop_at = time.monotonic() + deadline_s
            while time.monotonic() < stop_at:
                store.requeue_expired()
                claim = store.claim_pending(worker, lease_s=0.05)
                while claim is None and untried:  # refused targets run elsewhere; if re-queued, claim_pending sees them
                    design, rung = untried.pop()
                    claim = store.claim(design, rung, worker, lease_s=0.05)
                if claim is None:
                    if len(store.verifications(status="done")) == len(targets):
                        break
                    time.sleep(0.01)  # others' leases are still live
                    continue
                if rng.random() < 0.25:
                    abandoned += 1
                    continue
                try:
                    store.complete(claim, {"worker": worker, "token": claim.token}, "max_steps")
                    completed.append((claim.design, claim.rung, claim.token))
                except LeaseLost:
                    lost += 1
        results.put((worker, completed, abandoned, lost, None))
    except Exception as error:
        results.put((worker, completed, abandoned, lost, repr(error)))


def test_expired_leases_under_concurrency_lose_nothing_and_complete_each_once(store_target):
    with Store.open(store_target) as store:
        for i in range(10):
            add(store, f"d{i}")
    targets = [(f"d{i}", rung) for i in range(10) for rung in ("proxy", "cpu_xs", "cpu_s")]
    reports = run_workers(_churn, store_target, [f"w{i}" for i in range(4)], targets, 40)

    completions = [(d, r, token, worker) for worker, done, _, _, _ in reports for d, r, token in done]
    assert sorted((d, r) for d, r, _, _ in completions) == sorted(targets)  # each target completed exactly once
    with Store.open(store_target) as store:
        rows = {(v.design, v.rung): v for v in store.verifications()}
        failures = store.events(kind="verification_failed")
    assert all(v.status == "done" for v in rows.values())
    for design, rung, token, worker in completions:
        assert (rows[design, rung].worker, rows[design, rung].record) == (worker, {"worker": worker, "token": token})
    abandoned, lost = sum(r[2] for r in reports), sum(r[3] for r in reports)
    # every abandoned claim, and every claim that expired before it completed, is exactly one failed attempt
    assert sum(v.attempts for v in rows.values()) == len(failures) == abandoned + lost
    assert abandoned > 0
    print(f"\nchurn: {len(targets)} targets, {abandoned} claims abandoned, {lost} completions too late (LeaseLost)")
