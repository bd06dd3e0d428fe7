"""Design tickets: the reservation that stops a run at its target number of new designs, also when many
designers race for the last slots."""
from __future__ import annotations

import random
import time

from genesys.evolution.store import DESIGN_ABANDONED, Store
from tests.evolution.store_helpers import JOIN_DEADLINE_S, add, run_workers


def test_reservations_count_stored_and_in_progress_designs(store):
    add(store, "seed", is_seed=True)
    old_run = store.start_design(5, 0, {"worker": "dead"})           # a start of an earlier run that never ended
    run_start = store.event("run_start", {})
    assert old_run == 0
    assert store.start_design(2, run_start, {"worker": "a"}) == 0    # tickets count outcomes, not starts
    assert store.start_design(2, run_start, {"worker": "b"}) == 0
    assert store.start_design(2, run_start, {"worker": "c"}) is None  # two in progress fill the target
    starts = store.events(kind="design_start", since_id=run_start)
    assert [(e.payload["worker"], e.payload["ticket"]) for e in starts] == [("a", 0), ("b", 0)]

    store.event("design_none", {"ticket": 0})                        # a's attempt failed: its slot is free again
    assert store.start_design(2, run_start, {"worker": "c"}) == 1
    add(store, "child")                                               # b stored its design ...
    assert store.start_design(2, run_start, {"worker": "d"}) is None  # ... stored + b's start: still no room
    store.event("design", {"ticket": 0, "name": "child"})
    store.event("duplicate", {"ticket": 1})                           # c's child was a duplicate
    assert store.start_design(2, run_start, {"worker": "d"}) == 3    # 1 stored + 1 failure + 1 duplicate
    store.event("design_none", {"ticket": 3})
    add(store, "child2")
    assert store.start_design(2, run_start, {"worker": "e"}) is None  # two stored: the target is met
    assert store.start_design(None, run_start, {"worker": "e"}) == 5  # no target: always a ticket


def test_abandoned_design_frees_its_slot_and_its_ticket_is_taken_again(store):
    run_start = store.event("run_start", {})
    assert store.start_design(1, run_start, {"worker": "a"}) == 0
    assert store.start_design(1, run_start, {"worker": "b"}) is None  # a's design fills the target
    store.event(DESIGN_ABANDONED, {"ticket": 0})                      # a was stopped mid-design
    assert store.start_design(1, run_start, {"worker": "b"}) == 0    # the slot is free, the same ticket (seed)
    store.event("design_none", {"ticket": 0})
    assert store.start_design(1, run_start, {"worker": "c"}) == 1    # a failure moves the ticket on


def _designer(target, worker, goal, go, results):
    """Reserve, 'design' for a moment, store the design and its outcome event; stop once the goal is stored."""
    made = []
    try:
        with Store.open(target) as store:
            rng = random.Random(worker)
            go.wait(JOIN_DEADLINE_S)
            deadline = time.monotonic() + JOIN_DEADLINE_S
            while time.monotonic() < deadline:
                ticket = store.start_design(goal, 0, {"worker": worker})
                if ticket is None:
                    if store.new_design_count() >= goal:
                        break
                    time.sleep(0.005)
                    continue
                time.sleep(rng.uniform(0.0, 0.01))
                name = f"{worker}-{len(made)}"
                add(store, name)
                store.event("design", {"ticket": ticket, "name": name})
                made.append(name)
        results.put((worker, made, 0, 0.0, None))
    except Exception as error:
        results.put((worker, made, 0, 0.0, repr(error)))


def test_racing_designers_stop_exactly_at_the_target(store_target):
    goal = 12
    reports = run_workers(_designer, store_target, [f"designer{i}" for i in range(6)], goal)
    with Store.open(store_target) as store:
        stored = [d.name for d in store.designs() if not d.is_seed]
        starts, outcomes = store.events(kind="design_start"), store.events(kind="design")
    assert len(stored) == goal, f"{len(stored)} designs stored for a target of {goal}"
    assert sorted(stored) == sorted(name for r in reports for name in r[1])
    assert len(starts) == len(outcomes) == goal
