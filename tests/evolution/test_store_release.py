"""Handing work back without a failure: release() by a stopping worker, release_running() at a local restart."""
from __future__ import annotations

import pytest

from genesys.evolution.store import LeaseLost
from tests.evolution.store_helpers import add


def test_release_requeues_without_counting_an_attempt(store):
    add(store, "d")
    claim = store.claim("d", "proxy", "w1", lease_s=60)
    store.release(claim)
    (v,) = store.verifications()
    assert v.status == "pending" and v.attempts == 0 and v.worker is None
    again = store.claim_pending("w2", lease_s=60)
    assert again is not None and again.design == "d"
    with pytest.raises(LeaseLost):
        store.release(claim)                      # the old claim is gone: nothing of w2's is touched
    assert store.verifications()[0].worker == "w2"


def test_release_running_puts_every_running_row_back(store):
    for name in ("a", "b", "c"):
        add(store, name)
    store.claim("a", "proxy", "w1", lease_s=60)
    done = store.claim("b", "proxy", "w1", lease_s=60)
    store.complete(done, {"val_loss": 1.0}, "completed")
    store.claim("c", "proxy", "w2", lease_s=60)
    assert store.release_running("restart") == 2
    status = {v.design: (v.status, v.attempts) for v in store.verifications()}
    assert status == {"a": ("pending", 0), "b": ("done", 0), "c": ("pending", 0)}
    assert store.release_running("again") == 0
    assert [e.payload["count"] for e in store.events(kind="verifications_released")] == [2]
