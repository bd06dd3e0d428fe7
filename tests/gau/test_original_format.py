"""Designs written for the original Genesys release run unchanged, with the original GAUBase semantics: the
`src/` layout and import line, a parent writing kwarg_all for its children, a leaf with its own forward
signature. Our own format keeps forward final. The fixture (designs/original_style) is ours, in that style."""
from pathlib import Path

import pytest
import torch

from genesys.gau import GAUBase, build_block, compose, load_design, run_gau_tests, save_design
from genesys.paths import SEEDS_DIR

ORIGINAL_STYLE = Path(__file__).parent / "designs" / "original_style"


@pytest.fixture(scope="module")
def tree():
    return load_design(ORIGINAL_STYLE)


def test_original_layout_loads_with_original_semantics(tree):
    assert tree.semantics == "original"
    assert tree.root == "OrigBlock" and set(tree.units) == {"OrigBlock", "ShiftMix", "GateLerp"}
    assert "GAUBase.original_semantics = True" in compose(tree)
    assert load_design(SEEDS_DIR / "gpt2").semantics == "genesys"
    assert "original_semantics = True" not in compose(load_design(SEEDS_DIR / "gpt2"))


def test_parent_writes_kwarg_all_for_its_children(tree):
    """OrigBlock sets kwarg_all['group_dim'] before building ShiftMix, whose constructor requires it."""
    block = build_block(tree, embed_dim=32, block_loc=(0, 2))
    mix = block.root.mix
    assert mix.lerp.group_dim == 8 and mix.lerp.mu.shape == (4, 8)
    assert block.root.kwarg_all is mix.kwarg_all is mix.lerp.kwarg_all  # one dict, as in the original


def test_gaubase_keeps_the_dict_it_was_given():
    kwarg_all = {"a": 1}
    unit = GAUBase(8, (0, 1), kwarg_all)
    assert unit.kwarg_all is kwarg_all


def test_leaf_with_its_own_forward_runs_and_is_causal(tree):
    torch.manual_seed(0)
    block = build_block(tree, embed_dim=32, block_loc=(0, 2), dtype=torch.float64)
    X = torch.randn(2, 23, 32, dtype=torch.float64, requires_grad=True)
    Y, _ = block(X)
    assert Y.shape == X.shape and torch.isfinite(Y).all()
    for t in (0, 11, 21):
        (grad,) = torch.autograd.grad(Y[:, t].sum(), X, retain_graph=True)
        assert torch.count_nonzero(grad[:, t + 1:]) == 0, f"position {t} sees the future"
        assert torch.count_nonzero(grad[:, t - 1 if t else 0]) > 0


def test_failing_unit_test_is_reported_not_raised(tree):
    results = run_gau_tests(tree)
    assert results["OrigBlock.test_origblock"] is None and results["GateLerp.test_gatelerp"] is None
    assert "X must be (batch, seq_len, 32)" in results["ShiftMix.test_shiftmix_on_heads"]


def test_our_format_keeps_forward_final(tmp_path, tree):
    """The same units saved in our layout without the original marker: the forward override is refused."""
    saved = load_design(save_design(tree, tmp_path / "kept"))
    assert saved.semantics == "original"  # save_design writes the marker to metadata.yaml
    build_block(saved, embed_dim=32)
    ours = tmp_path / "ours"
    save_design(tree, ours)
    meta = (ours / "metadata.yaml").read_text().replace("semantics: original\n", "")
    (ours / "metadata.yaml").write_text(meta)
    stripped = load_design(ours)
    assert stripped.semantics == "genesys"
    with pytest.raises(TypeError, match="GateLerp overrides forward"):
        build_block(stripped, embed_dim=32)
