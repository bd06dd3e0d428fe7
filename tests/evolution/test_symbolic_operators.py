"""The symbolic designer's operators on the seeds, without the checker: every edit gives a complete tree that
composes and hashes differently from its parents; swaps keep roles and interfaces; name clashes are resolved."""
import ast
import random

import pytest

from genesys.evolution.designers.symbolic.hparams import RANGES, mutate_value
from genesys.evolution.designers.symbolic.library import UnitLibrary, seed_trees, subtree, units_of
from genesys.evolution.designers.symbolic.operators import OPERATORS, Context, NoMove, delete, hparam, insert, swap
from genesys.evolution.designers.symbolic.roles import base_name, fits, role_of, unit_interface
from genesys.evolution.designers.symbolic.transplant import transplant
from genesys.gau import compose
from genesys.gau.hashing import structural_hash

SEEDS = {t.name: t for t in seed_trees()}
NAMES = sorted(SEEDS)
LIBRARY = UnitLibrary().build([])


def _ctx(parents, seed, library=LIBRARY):
    return Context(parents=[SEEDS[p].copy() for p in parents], library=library, rng=random.Random(seed))


def _assert_sound_child(child, parents):
    assert not child.unimplemented(), child.unimplemented()
    ast.parse(compose(child))
    h = structural_hash(child)
    assert all(h != structural_hash(SEEDS[p]) for p in parents)


@pytest.mark.parametrize("op", ["swap", "insert", "delete", "hparam"])
@pytest.mark.parametrize("seed_name", NAMES)
def test_mutation_operators_give_new_composable_trees(op, seed_name):
    before = structural_hash(SEEDS[seed_name])
    for s in range(3):
        edit = OPERATORS[op](_ctx([seed_name], s))
        _assert_sound_child(edit.tree, [seed_name])
        assert edit.proposal
    assert structural_hash(SEEDS[seed_name]) == before  # the parent is never edited in place


@pytest.mark.parametrize("pair", [(a, b) for a in NAMES for b in NAMES if a != b])
def test_graft_gives_new_composable_trees(pair):
    edit = OPERATORS["graft"](_ctx(list(pair), 0))
    _assert_sound_child(edit.tree, list(pair))
    from_b = {u.name for u in units_of(SEEDS[pair[1]])}
    assert base_name(edit.placed) in from_b and edit.placed in edit.tree.units  # the graft came from B


def test_scratch_gives_new_composable_blocks():
    seeds = {structural_hash(t) for t in seed_trees()}
    for s in range(5):
        edit = OPERATORS["scratch"](_ctx([], s))
        _assert_sound_child(edit.tree, [])
        assert structural_hash(edit.tree) not in seeds
        assert [role_of(edit.tree, c) for c in edit.tree.units[edit.tree.root].children] == \
            ["norm", "seq_mixer", "channel_mixer"]


@pytest.mark.parametrize("op", ["swap", "graft"])
def test_swaps_respect_roles_and_interfaces(op):
    seen_roles = set()
    for s in range(25):
        pair = [NAMES[s % 5], NAMES[(s + 1 + s // 5) % 5]]
        parents = pair if op == "graft" else pair[:1]
        try:
            edit = OPERATORS[op](_ctx(parents, s))
        except NoMove:
            continue
        parent = SEEDS[parents[0]]
        role = role_of(parent, edit.replaced)
        assert role == role_of(edit.tree, edit.placed), edit.proposal
        assert fits(parent, edit.replaced, *unit_interface(edit.tree, edit.placed))
        seen_roles.add(role)
    assert {"norm", "seq_mixer", "channel_mixer"} <= seen_roles


def test_swap_never_crosses_roles_even_when_only_other_roles_are_offered():
    """gpt2 with a library of mamba2's units only: the sole move is MHA <-> Mamba2Mixer (SSDCore, a core with
    another interface, and Mamba2Block never stand in a gpt2 slot)."""
    library = UnitLibrary().build([])
    library = [u for u in library if u.design == "mamba2"]
    placed = set()
    for s in range(10):
        edit = swap(_ctx(["gpt2"], s, library))
        placed.add((edit.replaced, edit.placed))
    assert placed == {("MHA", "Mamba2Mixer")}
    with pytest.raises(NoMove):
        swap(_ctx(["gpt2"], 0, [u for u in library if u.role == "core"]))


def test_hparam_moves_one_value_within_its_range_keeping_its_type():
    for s in range(20):
        name = NAMES[s % 5]
        edit = hparam(_ctx([name], s))
        parent, child = SEEDS[name].kwarg_all(), edit.tree.kwarg_all()
        changed = [k for k in child if child[k] != parent.get(k)]
        assert len(changed) == 1, changed
        key = changed[0]
        assert type(child[key]) is type(parent[key])
        if key in RANGES:
            kind, low, high = RANGES[key]
            assert low <= child[key] <= high


def test_hparam_rules():
    rng = random.Random(0)
    assert mutate_value("n_heads", 8, rng) in (4, 16)
    assert mutate_value("n_heads", 16, rng) == 8            # 32 is above the range
    assert mutate_value("ssd_chunk_size", 64, rng) is None  # compute knob: frozen
    assert mutate_value("causal_conv_bias", True, rng) is False
    for _ in range(50):
        v = mutate_value("some_new_scale", 1.0, rng)
        assert isinstance(v, float) and 0.5 <= v <= 2.0 and v != 1.0


def test_delete_undoes_insert():
    """Deleting an inserted stage gives the parent back (the same structural hash)."""
    parent_hash = structural_hash(SEEDS["gpt2"])
    inserted = insert(_ctx(["gpt2"], 3)).tree
    restored = []
    for s in range(30):
        ctx = Context(parents=[inserted.copy()], library=LIBRARY, rng=random.Random(s))
        edit = delete(ctx)
        if "[stage]" in inserted.units[edit.replaced].desc:
            restored.append(structural_hash(edit.tree))
    assert restored and set(restored) == {parent_hash}


def test_delete_positional_gives_nope():
    for s in range(30):
        edit = delete(_ctx(["gpt2"], s))
        if edit.replaced == "RotaryEmbedding":
            assert "NoPE" in edit.tree.units and "RotaryEmbedding" not in edit.tree.units
            return
    pytest.fail("the positional encoding was never deleted in 30 draws")


def test_transplant_renames_a_clashing_unit_and_shares_an_identical_one():
    """gpt2's MHA put in place of ttt's CausalConv1d: ttt keeps RotaryEmbedding (TTTLinear uses it). The same
    RotaryEmbedding is shared; a different one comes in as RotaryEmbedding_2 and MHA's code points at it."""
    ttt, gpt2 = SEEDS["ttt"], SEEDS["gpt2"]
    same, _, _ = transplant(ttt, "CausalConv1d", subtree(gpt2, "MHA"))
    assert "RotaryEmbedding_2" not in same.units and "RotaryEmbedding" in same.units["MHA"].children
    donor = subtree(gpt2, "MHA")
    donor.units["RotaryEmbedding"].code = donor.units["RotaryEmbedding"].code.replace("cos", "sin")
    other, _, _ = transplant(ttt, "CausalConv1d", donor)
    assert other.units["MHA"].children == ["RotaryEmbedding_2"]
    assert "RotaryEmbedding_2(" in other.units["MHA"].code
    assert other.units["TTTLinear"].children == ["RotaryEmbedding"]
    ast.parse(compose(other))


def test_a_new_unit_takes_the_role_of_what_it_replaced():
    """An LLM-style design: gpt2 with MHA renamed `FooUnit` (no tag, no telling word, a name the table does
    not know) is in the library as a sequence mixer, so a swap can put it where MHA stands in another design."""
    from genesys.evolution.designers.symbolic.library import seed_positions
    foo = SEEDS["gpt2"].copy()
    foo.name = "llm-design"
    foo.rename_unit("MHA", "FooUnit")
    foo.units["GPT2Block"].decls[1].requirements = "something"
    assert role_of(foo, "FooUnit", seed_positions()) == "seq_mixer"
    lib = [u for u in units_of(foo) if u.name == "FooUnit"]
    assert lib and lib[0].role == "seq_mixer"


def test_hparam_leaves_epsilons_and_compute_knobs_alone():
    rng = random.Random(0)
    assert all(mutate_value(k, v, rng) is None for k, v in
               [("norm_eps", 1e-5), ("rwkv6_gn_eps", 6.4e-4), ("retnet_chunk_size", 64), ("mlp_multiple_of", 128)])
