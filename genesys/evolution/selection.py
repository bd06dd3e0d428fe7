"""Selection (DESIGN §7, the original code's rules and constants): which parents and which mode a designer gets, and
which (design, rung) a verifier runs next. Pure functions over `Candidate`s; randomness only from the `random.Random`
passed in, so a run replays exactly from its seed.

- confidence: proposed 1 + implemented 1 + points for each verified rung (the ladder's points, see ladder_points).
- quadrants: "good" = top 25 % by fitness, "confident" = top 25 % by confidence, among designs with a fitness. A tie
  across the cut goes to the lower side (as the original's midpoint split did), so e.g. when most designs share the
  lowest confidence, none of them is "confident".
- designers: mode scratch 0.05 / mutation 0.8 / crossover 0.15 (crossover unlocked after 10 implemented designs,
  scratch after 20; a locked mode's probability goes to mutation). Each parent: a seed with p 0.05 (restart), else
  good+confident (exploit) with p 0.8 or poor+confident (explore) with p 0.2.
- verifiers: never-verified designs first (seeds first, then oldest first: every design gets its lowest-rung
  score); then a good/unconfident design (p 0.8) or a poor/unconfident one (p 0.2) at its next rung; then the best
  design at the lowest rung that still has work. Only rungs with budget, never a failed design, never a rung above
  one the design has not passed.
- Within a pool the best (fitness, then confidence) is taken, except with a small background noise (0.05, relative
  weight) that picks uniformly: the original's rank-weighted sampler with one draw.
- wo_exp (the paper's "w/o Exp" ablation): fitness is never read; parents are uniform over all designs and
  verification takes a uniform design at the lowest rung with work.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Collection, Dict, List, Mapping, Optional, Sequence, Tuple

from genesys.evolution import budget as budget_mod
from genesys.evolution.population import Candidate, ladder_points, next_rung

MODE_PROBS = {"scratch": 0.05, "mutation": 0.8, "crossover": 0.15}
MODE_UNLOCK = {"crossover": 10, "scratch": 20}     # implemented designs (seeds not counted) before a mode opens
MODE_PARENTS = {"scratch": 0, "mutation": 1, "crossover": 2}
PROPOSED_POINTS, IMPLEMENTED_POINTS = 1, 1


def confidence(candidate: Candidate, rung_points: Mapping[str, float]) -> float:
    """How much we know about a design: proposed 1 + implemented 1 + the points of every verified rung."""
    return PROPOSED_POINTS + IMPLEMENTED_POINTS + sum(rung_points.get(r, 0) for r in set(candidate.verified))


@dataclass(frozen=True)
class Quadrants:
    """Names per quadrant, each ordered best first (fitness, then confidence, then name); `ranked` holds every
    design with a fitness in that order."""
    good_confident: Tuple[str, ...]
    good_unconfident: Tuple[str, ...]
    poor_confident: Tuple[str, ...]
    poor_unconfident: Tuple[str, ...]
    ranked: Tuple[str, ...] = ()

    def of(self, name: str) -> Optional[str]:
        for q in ("good_confident", "good_unconfident", "poor_confident", "poor_unconfident"):
            if name in getattr(self, q):
                return q
        return None

    @property
    def good(self) -> Tuple[str, ...]:
        members = set(self.good_confident) | set(self.good_unconfident)
        return tuple(n for n in self.ranked if n in members)

    @property
    def poor(self) -> Tuple[str, ...]:
        members = set(self.poor_confident) | set(self.poor_unconfident)
        return tuple(n for n in self.ranked if n in members)


def _upper_cut(values_desc: List[float], frac: float) -> float:
    """The value a member of the upper `frac` must strictly exceed (k = n * frac rounded half up)."""
    k = int(len(values_desc) * frac + 0.5)
    if k <= 0:
        return float("inf")
    if k >= len(values_desc):
        return float("-inf")
    return values_desc[k]


def quadrants(candidates: Sequence[Candidate], rung_points: Mapping[str, float], good_frac: float = 0.25,
              confident_frac: float = 0.25) -> Quadrants:
    """Split the designs that have a fitness into good/poor x confident/unconfident."""
    scored = [c for c in candidates if c.fitness is not None]
    conf = {c.name: confidence(c, rung_points) for c in scored}
    ranked = sorted(scored, key=lambda c: (-c.fitness, -conf[c.name], c.name))
    fit_cut = _upper_cut([c.fitness for c in ranked], good_frac)
    conf_cut = _upper_cut(sorted(conf.values(), reverse=True), confident_frac)
    groups: Dict[Tuple[bool, bool], List[str]] = {(g, k): [] for g in (True, False) for k in (True, False)}
    for c in ranked:
        groups[(c.fitness > fit_cut, conf[c.name] > conf_cut)].append(c.name)
    return Quadrants(tuple(groups[(True, True)]), tuple(groups[(True, False)]),
                     tuple(groups[(False, True)]), tuple(groups[(False, False)]), tuple(c.name for c in ranked))


# ----------------------------------------------------------------------------------------------- designers

def mode_probs(n_implemented: int, probs: Optional[Mapping[str, float]] = None,
               unlock: Optional[Mapping[str, int]] = None) -> Dict[str, float]:
    """The mode distribution at this point of the run: locked modes' probability moved to mutation."""
    probs = dict(MODE_PROBS if probs is None else probs)
    unlock = MODE_UNLOCK if unlock is None else unlock
    for mode, threshold in unlock.items():
        if mode in probs and n_implemented < threshold:
            probs["mutation"] = probs.get("mutation", 0.0) + probs[mode]
            probs[mode] = 0.0
    total = sum(probs.values())
    return {m: p / total for m, p in probs.items()}


def choose_mode(n_implemented: int, rng: random.Random, probs: Optional[Mapping[str, float]] = None,
                unlock: Optional[Mapping[str, int]] = None) -> str:
    """scratch | mutation | crossover, by the mode distribution (n_implemented: designs made so far, seeds excluded)."""
    dist = mode_probs(n_implemented, probs, unlock)
    modes = sorted(dist)  # fixed order: the same rng state gives the same mode
    return rng.choices(modes, weights=[dist[m] for m in modes])[0]


@dataclass(frozen=True)
class ParentChoice:
    """The parents, and for each the rule that picked it: restart (a seed), exploit (good+confident), explore
    (poor+confident), good / poor (no design is confident yet: confidence ignored), uniform (nothing has a fitness
    yet, or wo_exp), warmup (a seed, the original's first-verifications rule)."""
    parents: Tuple[str, ...]
    sources: Tuple[str, ...]


def _pick(pool: Sequence[str], rng: random.Random, background_noise: float) -> str:
    """The first (best) of a ranked pool, or with relative weight `background_noise` a uniform one."""
    if len(pool) == 1 or rng.random() * (1.0 + background_noise) < 1.0:
        return pool[0]
    return pool[rng.randrange(len(pool))]


def _without(pool: Sequence[str], taken: Collection[str]) -> List[str]:
    return [n for n in pool if n not in taken] if taken else list(pool)


def choose_parents(candidates: Sequence[Candidate], mode: str, rng: random.Random,
                   rung_points: Mapping[str, float], *, n_parents: Optional[int] = None,
                   good_frac: float = 0.25, confident_frac: float = 0.25, explore_prob: float = 0.2,
                   restart_prob: float = 0.05, background_noise: float = 0.05, seed_warmup: Optional[int] = None,
                   wo_exp: bool = False) -> ParentChoice:
    """Distinct parents for a design request (scratch: none, mutation: one, crossover: two).

    Failed designs are never parents. Fewer parents come back only when fewer distinct designs exist.
    seed_warmup: the original made the first parent a seed while at most 10 non-seed designs were verified; off by
    default (None), since a small run would never leave that warm-up."""
    n = MODE_PARENTS[mode] if n_parents is None else n_parents
    alive = [c for c in candidates if not c.failed]
    if n <= 0 or not alive:
        return ParentChoice((), ())
    seeds = [c.name for c in alive if c.is_seed]
    everyone = [c.name for c in alive]
    chosen: List[str] = []
    sources: List[str] = []

    def take(name: str, source: str) -> None:
        chosen.append(name)
        sources.append(source)

    if wo_exp:
        for _ in range(n):
            pool = _without(everyone, chosen)
            if not pool:
                break
            take(pool[rng.randrange(len(pool))], "uniform")
        return ParentChoice(tuple(chosen), tuple(sources))

    q = quadrants(alive, rung_points, good_frac, confident_frac)
    if seed_warmup is not None and seeds:
        n_verified = sum(1 for c in alive if not c.is_seed and c.verified)
        if n_verified <= seed_warmup:
            take(seeds[rng.randrange(len(seeds))], "warmup")

    while len(chosen) < n:
        free_seeds = _without(seeds, chosen)
        if free_seeds and rng.random() < restart_prob:
            take(free_seeds[rng.randrange(len(free_seeds))], "restart")
            continue
        exploit, explore = _without(q.good_confident, chosen), _without(q.poor_confident, chosen)
        labels = ("exploit", "explore")
        if not exploit and not explore:
            exploit, explore = _without(q.good, chosen), _without(q.poor, chosen)
            labels = ("good", "poor")
        if not exploit and not explore:
            pool = _without(everyone, chosen)
            if not pool:
                break
            take(pool[rng.randrange(len(pool))], "uniform")
            continue
        go_explore = (not exploit) or (bool(explore) and rng.random() < explore_prob)
        pool, label = (explore, labels[1]) if go_explore else (exploit, labels[0])
        take(_pick(pool, rng, background_noise), label)
    return ParentChoice(tuple(chosen), tuple(sources))


# ----------------------------------------------------------------------------------------------- verifiers

def verification_queue(candidates: Sequence[Candidate], rungs: Sequence[str], budget: dict,
                       in_flight: Collection[Tuple[str, str]] = ()) -> Dict[str, str]:
    """{design: the rung it would be verified at next} for every design a verifier may take now: not failed, not
    at the top, its next rung has budget available and is not already being verified."""
    has_budget = {r: budget_mod.available(budget, r) > 0 for r in rungs}
    busy = set(in_flight)
    out = {}
    for c in candidates:
        if c.failed:
            continue
        rung = next_rung(c, rungs)
        if rung is not None and has_budget[rung] and (c.name, rung) not in busy:
            out[c.name] = rung
    return out


def choose_verification(candidates: Sequence[Candidate], rungs: Sequence[str], budget: dict, rng: random.Random,
                        rung_points: Optional[Mapping[str, float]] = None, *,
                        in_flight: Collection[Tuple[str, str]] = (), good_frac: float = 0.25,
                        confident_frac: float = 0.25, explore_prob: float = 0.2, background_noise: float = 0.05,
                        wo_exp: bool = False) -> Optional[Tuple[str, str]]:
    """The next (design, rung) to verify, or None when nothing may run now (no work, or no budget for it)."""
    queue = verification_queue(candidates, rungs, budget, in_flight)
    if not queue:
        return None
    by_name = {c.name: c for c in candidates}
    lowest = rungs[0]
    fresh = [c for c in candidates if queue.get(c.name) == lowest]
    if fresh:  # every design gets its lowest-rung score first; seeds first: they anchor the comparison
        pick = next((c for c in fresh if c.is_seed), fresh[0])
        return pick.name, lowest

    if not wo_exp:
        points = ladder_points(rungs) if rung_points is None else rung_points
        q = quadrants(candidates, points, good_frac, confident_frac)
        exploit = [n for n in q.good_unconfident if n in queue]
        explore = [n for n in q.poor_unconfident if n in queue]
        if exploit or explore:
            go_explore = (not exploit) or (bool(explore) and rng.random() < explore_prob)
            name = _pick(explore if go_explore else exploit, rng, background_noise)
            return name, queue[name]

    order = {r: i for i, r in enumerate(rungs)}
    low = min(queue.values(), key=order.__getitem__)
    pool = [by_name[n] for n, r in queue.items() if r == low]
    if wo_exp:
        return pool[rng.randrange(len(pool))].name, low
    best = max(pool, key=lambda c: (c.fitness is not None, c.fitness if c.fitness is not None else 0.0))
    return best.name, low
