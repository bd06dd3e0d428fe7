"""The symbolic designer with the real (sandboxed) checker: every returned design passes it and is new.

The default test spends a handful of checker calls (about 8-15 s each on a shared CPU); the slow one runs a
batch of 20 children, each checked again from its saved folder.
"""
import pytest

from genesys.checker.api import check
from genesys.evolution.designers.base import DesignRequest, Parent
from genesys.evolution.designers.symbolic import SymbolicDesigner
from genesys.evolution.designers.symbolic.library import seed_trees
from genesys.gau import load_design, save_design
from genesys.gau.hashing import structural_hash

SEEDS = {t.name: t for t in seed_trees()}


def _evolve(requests, tmp_path, recheck: bool):
    """Run (mode, parents, seed) requests, accumulating children as an evolution would; return the outcomes."""
    designer = SymbolicDesigner()
    known = {structural_hash(t) for t in SEEDS.values()}
    pool = dict(SEEDS)
    outcomes = []
    for mode, parents, seed in requests:
        # a parent is a name, or an index into every design so far (seeds first, then children in order)
        parents = [p if isinstance(p, str) else list(pool)[p % len(pool)] for p in parents]
        request = DesignRequest(mode=mode, parents=[Parent(p, pool[p]) for p in parents], seed=seed,
                                library=list(pool.values()), is_known=known.__contains__, max_attempts=4)
        out = designer.design(request)
        assert all(a.seconds >= 0 for a in out.attempts)
        if out.tree is None:
            outcomes.append(out)
            continue
        assert out.checker_report["valid"] is True
        assert out.struct_hash not in known                     # new: not a seed, not an earlier child
        assert structural_hash(out.tree) == out.struct_hash
        folder = save_design(out.tree, tmp_path / out.name)
        assert structural_hash(load_design(folder)) == out.struct_hash   # the stored form is the same design
        if recheck:
            assert check(folder).valid, out.name
        known.add(out.struct_hash)
        pool[out.name] = out.tree
        outcomes.append(out)
    return outcomes


def test_one_child_per_mode_passes_the_checker_and_is_new(tmp_path):
    outcomes = _evolve([("mutation", ["gpt2"], 0), ("crossover", ["mamba2", "retnet"], 0), ("scratch", [], 0)],
                       tmp_path, recheck=False)
    assert all(o.tree is not None for o in outcomes), [[a.reason for a in o.attempts] for o in outcomes]


@pytest.mark.slow
def test_a_batch_of_children_all_valid_and_new(tmp_path):
    requests = []
    for i in range(20):  # children of seeds and of earlier children, as in an evolution
        mode = ("mutation", "mutation", "crossover", "scratch")[i % 4]
        parents = {"mutation": [3 * i + 1], "crossover": [3 * i, 5 * i + 2], "scratch": []}[mode]
        requests.append((mode, parents, 100 + i))
    outcomes = _evolve(requests, tmp_path, recheck=True)
    made = [o for o in outcomes if o.tree is not None]
    assert len(made) >= 15, [[a.reason for a in o.attempts] for o in outcomes if o.tree is None]
    assert len({o.struct_hash for o in made}) == len(made)
    assert len({o.name for o in made}) == len(made)
    tries = [a for o in outcomes for a in o.attempts]
    print("\nchildren", len(made), "of", len(outcomes), "requests;", len(tries), "tries;",
          {op: (sum(a.valid for a in tries if a.operator == op), sum(1 for a in tries if a.operator == op))
           for op in sorted({a.operator for a in tries})})
    for o in outcomes:
        print(o.name, "|", o.proposal, "|", [a.reason for a in o.attempts if not a.valid])
