"""What selection sees of a design: a small frozen record the orchestrator builds from the store.

Selection (genesys.evolution.selection) is pure logic over these; it never reads the store, records or trees, so it
can be tested by hand and runs over 10,000 designs in milliseconds.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Iterable, Optional, Sequence, Tuple


@dataclass(frozen=True)
class Candidate:
    """One implemented design in the evolution tree (seeds included).

    verified: the rungs at which the design has a completed verification (any order; selection reads them against
    the ladder). fitness: the population fitness (genesys.evolution.scoring), None while nothing is measured.
    failed: the design is out of the race (e.g. its verification failed 3 times); never verified again."""
    name: str
    is_seed: bool = False
    parents: Tuple[str, ...] = ()
    mode: Optional[str] = None          # "seed" | "mutation" | "crossover" | "scratch"
    verified: Tuple[str, ...] = ()
    fitness: Optional[float] = None
    failed: bool = False


def ladder_points(rungs: Sequence[str]) -> Dict[str, int]:
    """Confidence points per rung, cheapest first: 1, 2, 3, ... (the original: 14M 1, 31M 2, 70M 3, 125M 4, 350M 5;
    our CPU ladder with its proxy rung: proxy 1, cpu_xs 2, cpu_s 3, cpu_m 4)."""
    return {rung: i + 1 for i, rung in enumerate(rungs)}


def n_implemented(candidates: Iterable[Candidate]) -> int:
    """Implemented designs that count towards the mode unlock thresholds: every design except the seeds (the
    original counted its implemented design artifacts, which excluded the seed references)."""
    return sum(1 for c in candidates if not c.is_seed)


def next_rung(candidate: Candidate, rungs: Sequence[str]) -> Optional[str]:
    """The rung a design climbs to next: the first rung of the ladder it has not passed. A design never skips a
    rung, so a verification at a higher rung without the lower ones does not count here. None: the top is done."""
    done = set(candidate.verified)
    for rung in rungs:
        if rung not in done:
            return rung
    return None
