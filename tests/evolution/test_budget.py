"""The ladder budget: totals by ratio, the release staircase, claims, and a JSON-able state."""
import json

import pytest

from genesys.evolution import budget as B

PAPER = ["14M", "31M", "70M", "125M", "350M"]
CPU = ["proxy", "cpu_xs", "cpu_s", "cpu_m"]


def test_paper_totals():
    assert B.ladder_totals(PAPER) == {"14M": 256, "31M": 64, "70M": 16, "125M": 4, "350M": 1}
    assert B.ladder_totals(CPU, top=2) == {"proxy": 128, "cpu_xs": 32, "cpu_s": 8, "cpu_m": 2}
    assert B.ladder_totals(["a", "b"], top=1, ratio=0.3) == {"a": 4, "b": 1}    # 1 / 0.3 rounded up


def run(state, rung, n):
    for _ in range(n):
        state = B.complete(B.claim(state, rung), rung)
    return state


def test_release_pattern_across_rungs():
    s = B.new_budget(CPU)
    assert [B.available(s, r) for r in CPU] == [64, 0, 0, 0]       # only the cheapest rung is open at first
    seen = {}
    for done in range(1, 10):
        s = run(s, "proxy", 1)
        seen[done] = B.released(s, "cpu_xs")
    assert (seen[3], seen[4], seen[7], seen[8], seen[9]) == (0, 1, 1, 2, 2)
    assert B.released(s, "cpu_s") == 0
    s = run(s, "cpu_xs", 2)                                          # both released cpu_xs runs done
    assert B.available(s, "cpu_xs") == 0 and B.released(s, "cpu_s") == 0
    s = run(s, "proxy", 7)                                           # 16 proxy completions -> 4 cpu_xs
    s = run(s, "cpu_xs", 2)
    assert B.released(s, "cpu_xs") == 4 and B.released(s, "cpu_s") == 1   # 4 cpu_xs completions -> 1 cpu_s
    assert B.available(s, "cpu_m") == 0


def test_release_is_capped_by_the_total():
    s = B.new_budget(["a", "b"], totals={"a": 100, "b": 2})
    s = run(s, "a", 20)
    assert B.released(s, "b") == 2 and B.available(s, "a") == 80


def test_claims_and_inflight():
    s = B.new_budget(["a", "b"], totals={"a": 2, "b": 1})
    s1 = B.claim(s, "a")
    assert s["claimed"]["a"] == 0                    # pure: the input is untouched
    assert B.available(s1, "a") == 1 and B.in_flight(s1) == 1
    s2 = B.claim(s1, "a")
    with pytest.raises(ValueError):
        B.claim(s2, "a")                              # rung 'a' used up
    with pytest.raises(ValueError):
        B.claim(s2, "b")                              # nothing released at 'b' yet
    s3 = B.unclaim(s2, "a")                           # a dropped run gives its slot back
    assert B.available(s3, "a") == 1
    with pytest.raises(ValueError):
        B.complete(s, "a")                            # nothing claimed
    with pytest.raises(KeyError):
        B.available(s, "nope")


def test_exhausted_and_stalled():
    s = B.new_budget(["a", "b"], totals={"a": 4, "b": 1})
    assert not B.exhausted(s) and not B.stalled(s)
    s = run(s, "a", 4)
    assert not B.exhausted(s) and not B.stalled(s)   # 'b' got its one run
    s = B.claim(s, "b")
    assert B.exhausted(s) and not B.stalled(s)       # still running
    s = B.complete(s, "b")
    assert B.exhausted(s) and B.stalled(s)
    s = B.new_budget(["a", "b"], totals={"a": 3, "b": 1})
    s = run(s, "a", 3)
    assert B.stalled(s) and not B.exhausted(s)       # 3 completions never release 'b'


def test_unlimited_rung():
    s = B.new_budget(["a", "b"], totals={"a": None, "b": None})
    assert B.released(s, "a") is None and B.available(s, "a") > 10 ** 6
    s = run(s, "a", 8)
    assert B.released(s, "b") == 2 and not B.exhausted(s)


def test_state_is_plain_json():
    s = run(B.new_budget(CPU), "proxy", 5)
    back = json.loads(json.dumps(s))
    assert back == s and B.summary(back) == B.summary(s)
    assert B.summary(back)["cpu_xs"] == {"total": 16, "released": 1, "claimed": 0, "completed": 0, "available": 1}
