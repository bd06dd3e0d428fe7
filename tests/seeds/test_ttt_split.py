"""The ttt seed's finer unit tree (RoPE as the RotaryEmbedding child of TTTLinear) computes what the code before
the split computed: same parameters, same outputs for the same weights (fixture written by data/make_ttt_presplit.py
at the pre-split commit). The pre-split code had no position factor in the inner learning rate (tok_i = 1); the
only parameter added since, learnable_token_idx, is set to 1 - 1/(i+1), which makes tok_i = 1 again, so the
fixture still checks everything else (projections, RoPE child, dual form, norms, block wiring) to round-off."""
from pathlib import Path

import pytest
import torch

SEED = "ttt"
FIXTURE = Path(__file__).parent / "data" / "ttt_presplit.pt"


@pytest.fixture(scope="module")
def presplit():
    return torch.load(FIXTURE, weights_only=True)


def build(mod, name):
    return getattr(mod, name)(embed_dim=32, block_loc=(0, 1), kwarg_all={}, dtype=torch.float64, ttt_mini_batch=4)


def test_only_the_position_factor_was_added(mod, presplit):
    """Parameter count: the pre-split one plus b values of learnable_token_idx per TTTLinear (the fixture's block
    was built with kwarg_all = {}, so its TTTLinear has the default mini-batch 16)."""
    for name, key, b in [("TTTLinear", "linear", 4), ("TTTBlock", "block", 16)]:
        n_old = sum(t.numel() for t in presplit[f"{key}_state"].values())
        assert sum(p.numel() for p in build(mod, name).parameters()) == n_old + b


def test_rotary_embedding_is_a_child_of_ttt_linear(tree, mod):
    assert "RotaryEmbedding" in tree.units["TTTLinear"].children
    assert isinstance(build(mod, "TTTLinear").rotary_emb, mod.RotaryEmbedding)


@pytest.mark.parametrize("name,key", [("TTTLinear", "linear"), ("TTTBlock", "block")])
def test_split_design_matches_presplit_output(mod, presplit, name, key):
    unit = build(mod, name)
    missing, unexpected = unit.load_state_dict(presplit[f"{key}_state"], strict=False)
    assert not unexpected and all(name.endswith("learnable_token_idx") for name in missing) and missing
    with torch.no_grad():
        for name in missing:  # tok_i = max(0, 1/(i+1) + 1 - 1/(i+1)) = 1: the pre-split inner learning rate
            p = unit.get_parameter(name)
            p.copy_(1 - 1 / torch.arange(1, p.numel() + 1, dtype=torch.float64))
    with torch.no_grad():
        Y, _ = unit(presplit["X"])
    ref = presplit[f"{key}_out"]
    err = ((Y - ref).norm() / ref.norm()).item()
    assert err <= 1e-12, err
