"""One read of the store as selection sees it: designs, verifications, fitness and the candidates built from them.
Workers take a snapshot before each decision; the functions they call on it are pure."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List

from genesys.evolution.population import Candidate
from genesys.evolution.scoring import population_fitness
from genesys.evolution.selection import confidence
from genesys.evolution.settings import EvolutionSettings


@dataclass
class Snapshot:
    designs: list                      # DesignRow, insertion order
    verifications: list                # VerificationRow
    fitness: Dict[str, float]
    candidates: List[Candidate]

    @property
    def new_designs(self) -> list:
        return [d for d in self.designs if not d.is_seed]

    def done(self, design: str, rung: str, seed: int = 0) -> bool:
        return any(v.design == design and v.rung == rung and v.seed == seed and v.status == "done"
                   for v in self.verifications)


def records_of(verifications) -> list:
    """The record of every finished verification (all seeds: scoring averages them), named as the store names the
    design and the rung."""
    return [{**v.record, "design": v.design, "scale": v.rung} for v in verifications if v.status == "done" and v.record]


def take_snapshot(store, settings: EvolutionSettings) -> Snapshot:
    designs = store.designs()
    verifications = store.verifications()
    fitness = population_fitness(records_of(verifications), method=settings.selection.get("fitness", "eq1"),
                                 margin=settings.selection.get("margin", 0.02))
    verified: Dict[str, set] = {}
    for v in verifications:
        if v.status == "done" and v.seed == 0:
            verified.setdefault(v.design, set()).add(v.rung)
    order = {r: i for i, r in enumerate(settings.rungs)}
    candidates = [Candidate(name=d.name, is_seed=d.is_seed, parents=tuple(d.parents), mode=d.mode,
                            verified=tuple(sorted(verified.get(d.name, ()), key=lambda r: order.get(r, 99))),
                            fitness=fitness.get(d.name), failed=d.status == "failed")
                  for d in designs]
    return Snapshot(designs, verifications, fitness, candidates)


def confidences(snap: Snapshot, settings: EvolutionSettings) -> Dict[str, float]:
    return {c.name: confidence(c, settings.points) for c in snap.candidates}


def leaderboard(snap: Snapshot, settings: EvolutionSettings) -> List[dict]:
    """leaderboard.json's entries: the pure leaderboard over this snapshot (records of every seed, or the failure
    of a verification that produced none)."""
    from genesys.evolution.leaderboard import leaderboard_entries
    verifications = records_of(snap.verifications) + [
        {"design": v.design, "scale": v.rung, "stop_reason": f"failed: {v.error}"}
        for v in snap.verifications if v.status == "failed"]
    return leaderboard_entries(snap.candidates, verifications, snap.fitness, confidences(snap, settings), settings.rungs)
