"""GAU tree edits keep the tree consistent; JSON and folder round-trips are exact (incl. random edit sequences)."""
import json

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from genesys.gau import GAUTree, TreeError, build_block, compose, load_design, save_design
from tests.gau.helpers import make_node


def small_tree():
    tree = GAUTree(name="t", root="Root")
    tree.add_unit(make_node("Root", ["A", "B"]))
    tree.add_unit(make_node("A", ["C"]))
    return tree


def test_declared_children_are_placeholders_until_implemented():
    tree = small_tree()
    assert tree.implemented() == ["Root", "A"]
    assert sorted(tree.unimplemented()) == ["B", "C"]
    assert tree.declares["C"].requirements == "child C"
    tree.add_unit(make_node("C"))
    assert sorted(tree.unimplemented()) == ["B"]


def test_partial_tree_composes_with_identity_placeholders():
    tree = small_tree()
    block = build_block(tree, embed_dim=8)
    X = torch.randn(2, 3, 8)
    Y, _ = block(X)
    assert Y.shape == X.shape
    assert "placeholder B" in compose(tree)


def test_delete_removes_orphaned_descendants_and_restores_placeholder():
    tree = small_tree()
    tree.add_unit(make_node("C"))
    removed = tree.delete_unit("A")
    assert removed == ["A", "C"]
    assert "A" in tree.unimplemented() and "C" not in tree.reachable()


def test_shared_child_survives_deleting_one_parent():
    tree = GAUTree(name="t", root="Root")
    tree.add_unit(make_node("Root", ["A", "B"]))
    tree.add_unit(make_node("A", ["S"]))
    tree.add_unit(make_node("B", ["S"]))
    tree.add_unit(make_node("S"))
    tree.delete_unit("A")
    assert "S" in tree.units


def test_rename_updates_parents_code_and_still_builds():
    tree = small_tree()
    tree.add_unit(make_node("C"))
    tree.rename_unit("A", "Mixer")
    assert "Mixer" in tree.units["Root"].children and "A" not in tree.units
    assert "class Mixer(GAUBase)" in tree.units["Mixer"].code
    assert "Mixer(embed_dim" in tree.units["Root"].code
    build_block(tree, embed_dim=8)(torch.randn(1, 2, 8))


def test_refuses_cycles_unknown_parents_and_root_deletion():
    tree = small_tree()
    with pytest.raises(TreeError, match="cycle"):
        tree.add_unit(make_node("C", ["Root"]))
    assert "C" not in tree.units
    with pytest.raises(TreeError):
        tree.add_unit(make_node("X"), parent="Nope")
    with pytest.raises(TreeError):
        tree.delete_unit("Root")
    with pytest.raises(TreeError):
        tree.add_unit(make_node("Floating"))


def test_replace_swaps_implementation_and_prunes():
    tree = small_tree()
    tree.add_unit(make_node("C"))
    tree.replace_unit("A", make_node("A"))  # now a leaf: C is orphaned
    assert "C" not in tree.units


def test_hyperparameter_collision_is_an_error_unless_the_design_settles_it():
    tree = GAUTree(name="t", root="Root")
    tree.add_unit(make_node("Root", ["A"], args={"width": 2}))
    tree.add_unit(make_node("A", args={"width": 3}))
    with pytest.raises(TreeError, match="width"):
        compose(tree)
    tree.args["width"] = 4
    assert tree.kwarg_all()["width"] == 4


# ---- property-based: random edit sequences ------------------------------------------------------------

NAMES = ["U0", "U1", "U2", "U3", "U4", "U5"]
edit = st.one_of(
    st.tuples(st.just("add"), st.sampled_from(NAMES), st.lists(st.sampled_from(NAMES), max_size=2, unique=True)),
    st.tuples(st.just("delete"), st.sampled_from(NAMES), st.just([])),
    st.tuples(st.just("rename"), st.sampled_from(NAMES), st.sampled_from(NAMES).map(lambda n: [n + "r"])),
    st.tuples(st.just("replace"), st.sampled_from(NAMES), st.lists(st.sampled_from(NAMES), max_size=2, unique=True)),
)


def apply(tree, op, name, extra):
    if op == "add":
        target = next((n for n in tree.unimplemented()), None)
        if target is not None:
            tree.add_unit(make_node(target, [c for c in extra if c != target]))
    elif op == "delete":
        tree.delete_unit(name)
    elif op == "rename":
        tree.rename_unit(name, extra[0])
    elif op == "replace":
        tree.replace_unit(name, make_node(name, [c for c in extra if c != name]))


def check_invariants(tree):
    reach = set(tree.reachable())
    assert set(tree.units) <= reach, "implemented units must all be reachable (no orphans)"
    assert set(tree.unimplemented()) == reach - set(tree.units)
    for node in tree.units.values():
        assert node.spec.unitname == node.name
        assert f"class {node.name}(GAUBase)" in node.code
    tree._refuse_cycles(tree.root)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(edit, max_size=12))
def test_random_edit_sequences_keep_invariants_and_round_trip(tmp_path_factory, edits):
    tree = GAUTree(name="prop", root="U0")
    tree.add_unit(make_node("U0", ["U1"]))
    for op, name, extra in edits:
        try:
            apply(tree, op, name, extra)
        except TreeError:
            pass  # refused edits must leave the tree consistent too
        check_invariants(tree)
    again = GAUTree.from_dict(json.loads(json.dumps(tree.to_dict())))
    assert again == tree
    folder = save_design(tree, tmp_path_factory.mktemp("design"))
    loaded = load_design(folder)
    assert loaded.units == tree.units and loaded.root == tree.root
    Y, _ = build_block(tree, embed_dim=4)(torch.randn(1, 3, 4))
    assert torch.isfinite(Y).all()
