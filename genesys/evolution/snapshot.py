"""One read of the store as selection sees it: designs, verifications, fitness and the candidates built from them.
Workers take a snapshot before each decision; the functions they call on it are pure."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List

from genesys.evolution.population import Candidate
from genesys.evolution.scoring import population_fitness
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
    """(design, rung, record) of every finished verification with a record (all seeds: scoring averages them)."""
    return [(v.design, v.rung, v.record) for v in verifications if v.status == "done" and v.record]


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
