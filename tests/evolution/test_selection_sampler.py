"""The samplers' distributions: 20,000 draws with a fixed seed land within a tolerance of the original constants."""
import random
from collections import Counter

import pytest

from genesys.evolution import budget as B
from genesys.evolution.population import Candidate, ladder_points
from genesys.evolution.selection import choose_mode, choose_parents, choose_verification, quadrants

PAPER = ["14M", "31M", "70M", "125M", "350M"]
POINTS = ladder_points(PAPER)
N = 20_000
TOL = 0.012          # ~4 standard errors of a 0.2 frequency over 20,000 draws


def population():
    """5 seeds and 40 designs; fitness = index, verified rungs vary so every quadrant is populated."""
    seeds = [Candidate(f"seed{i}", is_seed=True, fitness=10.0 + i, verified=tuple(PAPER[:5 - i])) for i in range(5)]
    designs = [Candidate(f"d{i:02d}", fitness=float(i), verified=tuple(PAPER[:1 + (i * 7) % 5])) for i in range(40)]
    return seeds + designs


def freq(counter, key):
    return counter[key] / sum(counter.values())


@pytest.mark.parametrize("n_implemented, expected", [
    (25, {"scratch": 0.05, "mutation": 0.8, "crossover": 0.15}),
    (12, {"scratch": 0.0, "mutation": 0.85, "crossover": 0.15}),
    (3, {"scratch": 0.0, "mutation": 1.0, "crossover": 0.0}),
])
def test_mode_frequencies(n_implemented, expected):
    rng = random.Random(1234)
    counts = Counter(choose_mode(n_implemented, rng) for _ in range(N))
    for mode, p in expected.items():
        assert freq(counts, mode) == pytest.approx(p, abs=TOL)
        if p == 0.0:
            assert counts[mode] == 0                     # a locked mode never comes out


def test_parent_source_frequencies():
    pop = population()
    q = quadrants(pop, POINTS)
    assert q.good_confident and q.poor_confident        # the case the constants are about
    rng = random.Random(1234)
    sources, exploit_picks = Counter(), Counter()
    for _ in range(N):
        choice = choose_parents(pop, "mutation", rng, POINTS)
        sources[choice.sources[0]] += 1
        if choice.sources[0] == "exploit":
            exploit_picks[choice.parents[0]] += 1
            assert choice.parents[0] in q.good_confident
        if choice.sources[0] == "explore":
            assert choice.parents[0] in q.poor_confident
        if choice.sources[0] == "restart":
            assert choice.parents[0].startswith("seed")
    assert set(sources) == {"restart", "exploit", "explore"}
    assert freq(sources, "restart") == pytest.approx(0.05, abs=TOL)
    assert freq(sources, "exploit") == pytest.approx(0.95 * 0.8, abs=TOL)
    assert freq(sources, "explore") == pytest.approx(0.95 * 0.2, abs=TOL)
    # within a pool the best is taken, except for the 0.05 background noise spread over the pool
    k = len(q.good_confident)
    top_share = (1 + 0.05 / k) / 1.05
    assert freq(exploit_picks, q.good_confident[0]) == pytest.approx(top_share, abs=TOL)


def test_verification_quadrant_frequencies():
    pop = [c for c in population() if len(c.verified) < len(PAPER)]       # designs with work left
    budget = B.new_budget(PAPER, totals={r: 10_000 for r in PAPER}, ratio=1.0)
    for r, n in zip(PAPER, (5000, 4000, 3000, 2000, 1000)):
        budget["completed"][r] = budget["claimed"][r] = n
    q = quadrants(pop, POINTS)
    assert q.good_unconfident and q.poor_unconfident
    rng = random.Random(1234)
    where = Counter()
    for _ in range(N):
        name, rung = choose_verification(pop, PAPER, budget, rng)
        where[q.of(name)] += 1
        assert rung == PAPER[len(next(c for c in pop if c.name == name).verified)]   # its next rung, no skipping
    assert set(where) == {"good_unconfident", "poor_unconfident"}
    assert freq(where, "good_unconfident") == pytest.approx(0.8, abs=TOL)
