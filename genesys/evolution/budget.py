"""The ladder budget: how many verifications each rung may run, and when they are released.

Totals follow a fixed ratio between neighbouring rungs (0.25 in the paper: 350M 1, 125M 4, 70M 16, 31M 64, 14M 256),
so the ladder is a pyramid: many cheap runs, few expensive ones. The cheapest rung's budget is open from the start;
a higher rung's budget is released as the rung below completes verifications, one for every 1/ratio of them (with
0.25: every 4 completed at rung k release one at rung k+1), never beyond the rung's total. A design can only climb
to a rung it has a lower-rung result for, so releasing on completions keeps the higher rungs' runs for designs that
have actually been measured.

The original code computed the same staircase from the allocation at the lowest rung (rung k+1 gets one unit each
time the allocation at rung k reaches a multiple of 4); we count completed verifications instead, which is the
same in steady state and needs no replay of the allocation history.

The state is a plain JSON-able dict (the store keeps it as is); every function here is pure and returns a new dict.
  {"rungs": [cheapest .. top], "ratio": 0.25 (or per rung: {rung: ratio from the rung below}),
   "totals": {rung: int | None (unlimited)},
   "claimed": {rung: int}, "completed": {rung: int}}
claimed counts every verification ever started at the rung (in flight or finished), completed those that finished.
"""
from __future__ import annotations

import copy
import math
from typing import Dict, Mapping, Optional, Sequence

_EPS = 1e-9  # floor(completed * ratio) without 0.29 * 100 = 28.999... surprises


def ladder_totals(rungs: Sequence[str], top: int = 1, ratio: float = 0.25) -> Dict[str, int]:
    """Per-rung totals: `top` at the most expensive rung, divided by `ratio` for each rung below (rounded up)."""
    n = len(rungs)
    return {rung: int(math.ceil(top / ratio ** (n - 1 - i) - _EPS)) for i, rung in enumerate(rungs)}


def new_budget(rungs: Sequence[str], totals: Optional[Mapping[str, Optional[int]]] = None, ratio: float = 0.25,
               top: int = 1) -> dict:
    """A fresh budget state. totals: explicit per-rung totals (None for a rung = unlimited); default ladder_totals."""
    ratios = ratio.values() if isinstance(ratio, Mapping) else [ratio]
    if not all(0 < r <= 1 for r in ratios):
        raise ValueError(f"ratio must be in (0, 1], got {ratio}")
    if isinstance(ratio, Mapping):
        ratio = {r: float(ratio.get(r, 0.25)) for r in rungs[1:]}
    totals = dict(totals) if totals is not None else ladder_totals(rungs, top, ratio if isinstance(ratio, float) else 0.25)
    missing = [r for r in rungs if r not in totals]
    if missing:
        raise ValueError(f"no total for rungs {missing}")
    return {"rungs": list(rungs), "ratio": ratio, "totals": {r: totals[r] for r in rungs},
            "claimed": {r: 0 for r in rungs}, "completed": {r: 0 for r in rungs}}


def budget_from_counts(rungs: Sequence[str], totals: Mapping[str, Optional[int]], ratio, claimed: Mapping[str, int],
                       completed: Mapping[str, int]) -> dict:
    """The state rebuilt from counts (the store's verifications are the truth; nothing else to keep in sync)."""
    state = new_budget(rungs, {r: totals.get(r) for r in rungs}, ratio)
    state["claimed"] = {r: int(claimed.get(r, 0)) for r in rungs}
    state["completed"] = {r: int(completed.get(r, 0)) for r in rungs}
    return state


def _index(state: dict, rung: str) -> int:
    try:
        return state["rungs"].index(rung)
    except ValueError:
        raise KeyError(f"rung {rung!r} is not on this ladder {state['rungs']}") from None


def released(state: dict, rung: str) -> Optional[int]:
    """How many verifications the rung may have started so far (None: unlimited)."""
    i = _index(state, rung)
    total = state["totals"][rung]
    if i == 0:
        return total
    ratio = state["ratio"][rung] if isinstance(state["ratio"], Mapping) else state["ratio"]
    earned = math.floor(state["completed"][state["rungs"][i - 1]] * ratio + _EPS)
    return earned if total is None else min(total, earned)


def available(state: dict, rung: str) -> int:
    """Verifications the rung may start now (a large number stands for unlimited)."""
    r = released(state, rung)
    if r is None:
        return 1 << 30
    return max(0, r - state["claimed"][rung])


def _bump(state: dict, field: str, rung: str, by: int) -> dict:
    _index(state, rung)
    new = copy.deepcopy(state)
    new[field][rung] += by
    return new


def claim(state: dict, rung: str) -> dict:
    """A verification at `rung` starts. Raises if the rung has no budget available."""
    if available(state, rung) <= 0:
        raise ValueError(f"no budget available at rung {rung!r}")
    return _bump(state, "claimed", rung, 1)


def complete(state: dict, rung: str) -> dict:
    """A claimed verification at `rung` finished (whatever its stop reason: its compute is spent)."""
    if state["completed"][rung] >= state["claimed"][rung]:
        raise ValueError(f"rung {rung!r}: more completions than claims")
    return _bump(state, "completed", rung, 1)


def unclaim(state: dict, rung: str) -> dict:
    """A claimed verification was given up before it finished (its design was dropped): the slot returns."""
    if state["claimed"][rung] <= state["completed"][rung]:
        raise ValueError(f"rung {rung!r}: nothing in flight to give back")
    return _bump(state, "claimed", rung, -1)


def exhausted(state: dict) -> bool:
    """No rung can ever start another verification: every rung has used its total (unlimited rungs never do)."""
    return all(t is not None and state["claimed"][r] >= t for r, t in state["totals"].items())


def summary(state: dict) -> Dict[str, dict]:
    """Per rung: total, released, claimed, completed, available (for the live view and the leaderboard)."""
    out = {}
    for rung in state["rungs"]:
        r = released(state, rung)
        out[rung] = {"total": state["totals"][rung], "released": r, "claimed": state["claimed"][rung],
                     "completed": state["completed"][rung],
                     "available": None if r is None else max(0, r - state["claimed"][rung])}
    return out


def in_flight(state: dict) -> int:
    return sum(state["claimed"][r] - state["completed"][r] for r in state["rungs"])


def stalled(state: dict) -> bool:
    """Nothing may start and nothing is running, so no budget will ever be released again: the ladder is done."""
    return in_flight(state) == 0 and all(available(state, r) <= 0 for r in state["rungs"])
