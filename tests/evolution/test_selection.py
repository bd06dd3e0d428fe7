"""Selection by hand: confidence, quadrants (and their ties), mode unlocks, parent fallbacks, verification order."""
import random

import pytest

from genesys.evolution import budget as B
from genesys.evolution.population import Candidate, ladder_points, n_implemented, next_rung
from genesys.evolution.selection import (choose_mode, choose_parents, choose_verification, confidence, mode_probs,
                                         quadrants)

PAPER = ["14M", "31M", "70M", "125M", "350M"]
CPU = ["proxy", "cpu_xs", "cpu_s", "cpu_m"]
POINTS = ladder_points(PAPER)


def test_confidence_points():
    assert POINTS == {"14M": 1, "31M": 2, "70M": 3, "125M": 4, "350M": 5}
    assert ladder_points(CPU) == {"proxy": 1, "cpu_xs": 2, "cpu_s": 3, "cpu_m": 4}
    assert confidence(Candidate("new"), POINTS) == 2                                  # proposed + implemented
    assert confidence(Candidate("a", verified=("14M", "31M")), POINTS) == 5           # 2 + 1 + 2
    assert confidence(Candidate("a", verified=("14M", "14M", "350M")), POINTS) == 8   # a rung counts once


def test_next_rung_never_skips():
    assert next_rung(Candidate("a"), CPU) == "proxy"
    assert next_rung(Candidate("a", verified=("proxy", "cpu_xs")), CPU) == "cpu_s"
    assert next_rung(Candidate("a", verified=("cpu_xs",)), CPU) == "proxy"     # a stray higher result: still proxy
    assert next_rung(Candidate("a", verified=tuple(CPU)), CPU) is None
    assert n_implemented([Candidate("s", is_seed=True), Candidate("a"), Candidate("b")]) == 2


def ladder_population():
    """8 designs: fitness 8..1 (d8 best), verified up to increasingly many rungs for d1..d8 alternately."""
    rungs_for = {8: 1, 7: 3, 6: 2, 5: 4, 4: 1, 3: 5, 2: 2, 1: 1}
    return [Candidate(f"d{i}", fitness=float(i), verified=tuple(PAPER[:rungs_for[i]])) for i in range(8, 0, -1)]


def test_quadrants_hand_computed():
    # fitness top 2 (round(8 * 0.25)): d8, d7. confidence 2 + (1..k points): d3 17, d5 12, d7 8, d6 5, d2 5,
    # d8 3, d4 3, d1 3 -> top 2: d3, d5.
    q = quadrants(ladder_population() + [Candidate("unscored")], POINTS)
    assert q.good_confident == ()
    assert q.good_unconfident == ("d8", "d7")
    assert q.poor_confident == ("d5", "d3")
    assert q.poor_unconfident == ("d6", "d4", "d2", "d1")
    assert q.of("unscored") is None and q.good == ("d8", "d7") and q.ranked[0] == "d8"


def test_quadrant_ties_go_to_the_lower_side():
    # four designs, top 25 % = 1; d_a and d_b tie on the best fitness: neither is "good" (the original's midpoint).
    cands = [Candidate("a", fitness=1.0), Candidate("b", fitness=1.0), Candidate("c", fitness=0.5),
             Candidate("d", fitness=0.1)]
    q = quadrants(cands, POINTS)
    assert q.good == () and q.poor == ("a", "b", "c", "d")
    assert q.good_confident == q.poor_confident == ()        # everyone has the same confidence
    assert quadrants(cands[1:], POINTS, good_frac=0.5).good == ("b", "c")   # 3 * 0.5 = 1.5 rounds half up to 2
    assert quadrants(cands, POINTS, good_frac=0.5).good == ("a", "b")       # the tie sits inside the top 2


def test_mode_unlock_thresholds():
    assert mode_probs(9) == {"scratch": 0.0, "mutation": 1.0, "crossover": 0.0}
    assert mode_probs(10) == pytest.approx({"scratch": 0.0, "mutation": 0.85, "crossover": 0.15})
    assert mode_probs(20) == pytest.approx({"scratch": 0.05, "mutation": 0.8, "crossover": 0.15})
    rng = random.Random(1)
    assert {choose_mode(n, rng) for n in range(10) for _ in range(500)} == {"mutation"}
    assert "scratch" not in {choose_mode(19, rng) for _ in range(2000)}


def test_scratch_has_no_parents_and_crossover_two_distinct():
    rng = random.Random(0)
    pop = ladder_population()
    assert choose_parents(pop, "scratch", rng, POINTS).parents == ()
    for _ in range(2000):
        p = choose_parents(pop, "crossover", rng, POINTS).parents
        assert len(p) == 2 and p[0] != p[1]


def test_parent_fallbacks():
    rng = random.Random(0)
    # nobody confident (equal confidence): good / poor by fitness only
    flat = [Candidate(f"d{i}", fitness=float(i), verified=("14M",)) for i in range(8)]
    srcs = {s for _ in range(500) for s in choose_parents(flat, "mutation", rng, POINTS).sources}
    assert srcs <= {"good", "poor", "restart", "uniform"} and {"good", "poor"} <= srcs
    # nothing measured yet: uniform over the living designs; failed ones never
    fresh = [Candidate("s1", is_seed=True), Candidate("s2", is_seed=True), Candidate("x", failed=True)]
    picks = {choose_parents(fresh, "mutation", rng, POINTS).parents for _ in range(300)}
    assert picks == {("s1",), ("s2",)}
    # crossover with one living design: one parent only
    assert len(choose_parents(fresh[:1] + fresh[2:], "crossover", rng, POINTS).parents) == 1


def test_seed_warmup_puts_a_seed_first():
    rng = random.Random(0)
    pop = [Candidate("s", is_seed=True, fitness=0.0, verified=("14M",))] + ladder_population()
    for _ in range(200):
        c = choose_parents(pop, "mutation", rng, POINTS, seed_warmup=10)
        assert c.parents == ("s",) and c.sources == ("warmup",)
    assert {choose_parents(pop, "mutation", rng, POINTS, seed_warmup=5).sources[0] for _ in range(200)} != {"warmup"}


def test_wo_exp_ignores_fitness():
    pop = ladder_population()
    flipped = [Candidate(c.name, fitness=-c.fitness, verified=c.verified) for c in pop]
    a = [choose_parents(pop, "mutation", random.Random(s), POINTS, wo_exp=True).parents for s in range(50)]
    b = [choose_parents(flipped, "mutation", random.Random(s), POINTS, wo_exp=True).parents for s in range(50)]
    assert a == b and len(set(a)) > 4


# ------------------------------------------------------------------------------------------- verification

def open_budget(rungs):
    """Every rung has budget available: 40, 20, 10, 0 completed bottom-up with ratio 1 and totals 100."""
    s = B.new_budget(rungs, totals={r: 100 for r in rungs}, ratio=1.0)
    for r, n in zip(rungs, (40, 20, 10, 0)):
        s["completed"][r] = s["claimed"][r] = n
    assert all(B.available(s, r) > 0 for r in rungs)
    return s


def test_verification_order_seeds_then_oldest_at_the_lowest_rung():
    rng = random.Random(0)
    pop = [Candidate("d1"), Candidate("seed_a", is_seed=True), Candidate("d2"),
           Candidate("top", fitness=9.0, verified=("proxy",))]
    budget = open_budget(CPU)
    assert choose_verification(pop, CPU, budget, rng) == ("seed_a", "proxy")
    done = [Candidate("seed_a", is_seed=True, verified=("proxy",), fitness=0.1)] + [c for c in pop if c.name != "seed_a"]
    assert choose_verification(done, CPU, budget, rng) == ("d1", "proxy")
    assert choose_verification(done, CPU, budget, rng, in_flight={("d1", "proxy")}) == ("d2", "proxy")


def test_verification_respects_budget_failure_and_the_ladder():
    rng = random.Random(0)
    budget = B.new_budget(CPU)                                    # only proxy is open
    pop = [Candidate("a", verified=("proxy",), fitness=0.5), Candidate("b", verified=("proxy",), fitness=0.1)]
    assert choose_verification(pop, CPU, budget, rng) is None     # cpu_xs has nothing released yet
    pop.append(Candidate("c", failed=True))
    assert choose_verification(pop, CPU, budget, rng) is None     # a failed design is never verified
    pop.append(Candidate("skip", verified=("cpu_xs",)))           # lacks proxy: goes to proxy, not cpu_s
    assert choose_verification(pop, CPU, open_budget(CPU), rng) == ("skip", "proxy")
    everything = [Candidate("z", verified=tuple(CPU), fitness=1.0)]
    assert choose_verification(everything, CPU, open_budget(CPU), rng) is None


def test_verification_prefers_good_unconfident_and_wo_exp_is_uniform():
    rng = random.Random(0)
    # two designs, both at proxy: round(2 * 0.25) = 1 good (a), confidence tied -> a good_unconfident
    pop = [Candidate("b", verified=("proxy",), fitness=0.1), Candidate("a", verified=("proxy",), fitness=0.5)]
    picks = [choose_verification(pop, CPU, open_budget(CPU), rng) for _ in range(400)]
    assert {p[1] for p in picks} == {"cpu_xs"}
    share_a = sum(p[0] == "a" for p in picks) / len(picks)
    assert 0.7 < share_a < 0.9                                     # 0.8 good/unconfident vs 0.2 poor/unconfident
    # wo_exp: uniform among the lowest rung's work
    picks = [choose_verification(pop, CPU, open_budget(CPU), rng, wo_exp=True)[0] for _ in range(400)]
    assert 0.4 < sum(p == "a" for p in picks) / len(picks) < 0.6


def test_verification_fallback_without_quadrants():
    # measured at proxy but no kept metric (fitness None): in no quadrant; the lowest rung with work, first in order
    rng = random.Random(0)
    pop = [Candidate("p", verified=("proxy",)), Candidate("q", verified=("proxy",)),
           Candidate("r", verified=("proxy", "cpu_xs", "cpu_s"))]
    assert choose_verification(pop, CPU, open_budget(CPU), rng) == ("p", "cpu_xs")
