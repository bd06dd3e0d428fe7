"""structural_hash: equal for the same computation under other names and text, different for any change of
code, shape or hyper-parameter values."""
import pytest

from genesys.evolution.designers.symbolic.library import seed_trees
from genesys.gau import GAUTree
from genesys.gau.hashing import structural_hash


def _seed(name: str) -> GAUTree:
    return {t.name: t for t in seed_trees()}[name].copy()


def test_every_seed_hashes_differently():
    hashes = [structural_hash(t) for t in seed_trees()]
    assert len(set(hashes)) == len(hashes) == 5


def test_renamed_and_redocumented_copy_collides_with_the_seed():
    seed = _seed("gpt2")
    copy = seed.copy()
    copy.name = "my-gpt2"
    copy.proposal = "something else entirely"
    copy.rename_unit("MHA", "Attention")
    copy.rename_unit("RMSNorm", "Norm")
    copy.rename_unit("GPT2Block", "Block")
    node = copy.units["Attention"]
    node.code = node.code.replace('"""Causal multi-head', '"""A different docstring.\n\n    Causal multi-head', 1)
    node.code = node.code.replace("        B, L, D = X.shape\n",
                                  "        # shapes\n        B, L, D = X.shape  # unpack\n", 1)
    node.spec.document = "new words"
    node.desc = "new description"
    assert copy.units["Block"].code != seed.units["GPT2Block"].code  # really renamed in the text
    assert structural_hash(copy) == structural_hash(seed)


def test_unit_tests_do_not_count():
    seed = _seed("gpt2")
    copy = seed.copy()
    code = copy.units["MHA"].code
    copy.units["MHA"].code = code[:code.index("@gau_test")]
    assert structural_hash(copy) == structural_hash(seed)


@pytest.mark.parametrize("edit", ["unit_arg", "design_arg", "code", "child_order", "semantics"])
def test_any_change_of_what_is_computed_changes_the_hash(edit):
    seed = _seed("gpt2")
    child = seed.copy()
    if edit == "unit_arg":
        child.units["MHA"].args["n_heads"] = 4
    elif edit == "design_arg":
        child.args["rope_theta"] = 5e5
    elif edit == "code":
        child.units["GPT2Block"].code = child.units["GPT2Block"].code.replace("return X + H, Z", "return X - H, Z")
    elif edit == "child_order":
        child.units["GPT2Block"].children = ["SwiGLU", "MHA", "RMSNorm"]
    else:
        child.semantics = "original"
    assert structural_hash(child) != structural_hash(seed)


def test_the_same_value_given_at_the_design_level_is_the_same_design():
    """ARGS count by the value the composed module sees, not where it is written."""
    seed = _seed("gpt2")
    child = seed.copy()
    child.args["n_heads"] = 8
    assert structural_hash(child) == structural_hash(seed)
