"""The ttt seed's finer unit tree (RoPE as the RotaryEmbedding child of TTTLinear) computes what the code before
the split computed: same parameters, same outputs for the same weights (fixture written by data/make_presplit.py
at the pre-split commit)."""
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


def test_rotary_embedding_is_a_child_of_ttt_linear(tree, mod):
    assert "RotaryEmbedding" in tree.units["TTTLinear"].children
    assert isinstance(build(mod, "TTTLinear").rotary_emb, mod.RotaryEmbedding)


@pytest.mark.parametrize("name,key", [("TTTLinear", "linear"), ("TTTBlock", "block")])
def test_split_design_matches_presplit_output(mod, presplit, name, key):
    unit = build(mod, name)
    unit.load_state_dict(presplit[f"{key}_state"])  # strict: the same parameters, under the same names
    with torch.no_grad():
        Y, _ = unit(presplit["X"])
    ref = presplit[f"{key}_out"]
    err = ((Y - ref).norm() / ref.norm()).item()
    assert err <= 1e-12, err
