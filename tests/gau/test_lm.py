"""The LM wrapper: parameter counts on meta, tied head, GPT-2 init, loss, and the GAUBase forward contract."""
import math

import pytest
import torch
import torch.nn.functional as F

from genesys.gau import GABBase, GAUBase, GenesysLM, UnitDecl, UnitSpec, gau_test, load_design
from genesys.paths import SEEDS_DIR


@pytest.fixture(scope="module")
def gpt2():
    return load_design(SEEDS_DIR / "gpt2")


def test_public_names_importable():
    assert all([GAUBase, GABBase, gau_test, UnitDecl, UnitSpec])


def test_meta_counts_equal_real_counts_and_head_is_tied(gpt2):
    meta = GenesysLM.from_design(gpt2, d_model=64, n_block=2, vocab_size=500, device="meta")
    real = GenesysLM.from_design(gpt2, d_model=64, n_block=2, vocab_size=500)
    assert meta.num_params() == real.num_params() == sum(p.numel() for p in real.parameters())
    assert real.lm_head.weight is real.embedding.weight
    assert real.num_params() - real.num_params(non_embedding=True) == 500 * 64
    assert all(p.device.type == "meta" for p in meta.parameters())


def test_gpt2_style_init(gpt2):
    torch.manual_seed(0)
    lm = GenesysLM.from_design(gpt2, d_model=256, n_block=8, vocab_size=1000)
    assert lm.embedding.weight.std().item() == pytest.approx(0.02, rel=0.05)
    block = lm.blocks[0].root
    assert block.attn.qkv_proj.weight.std().item() == pytest.approx(0.02, rel=0.05)
    assert block.attn.out_proj.weight.std().item() == pytest.approx(0.02 / math.sqrt(16), rel=0.05)
    assert block.mlp.out_proj.weight.std().item() == pytest.approx(0.02 / math.sqrt(16), rel=0.05)


def test_loss_is_mean_next_token_cross_entropy(gpt2):
    torch.manual_seed(0)
    lm = GenesysLM.from_design(gpt2, d_model=32, n_block=2, vocab_size=50)
    ids = torch.randint(0, 50, (3, 11))
    labels = ids.clone()
    labels[0, 5] = -100
    logits, loss = lm(ids, labels=labels)
    manual = F.cross_entropy(logits[:, :-1].reshape(-1, 50), labels[:, 1:].reshape(-1), ignore_index=-100)
    assert torch.allclose(loss, manual)
    assert torch.equal(lm(ids), logits)


class Writer(GAUBase):
    def __init__(self, embed_dim, block_loc, kwarg_all, **kwargs):
        super().__init__(embed_dim, block_loc, kwarg_all)

    def _forward(self, X, **Z):
        return X + 1, {"seen": Z.get("note")}


class Picky(GAUBase):
    def __init__(self, embed_dim, block_loc, kwarg_all, **kwargs):
        super().__init__(embed_dim, block_loc, kwarg_all)

    def _forward(self, X, note=None):
        return X * 2, {"note_was": note}


def test_forward_contract_passes_named_z_and_merges_updates():
    X = torch.zeros(1, 2, 4)
    Y, Z = Writer(4, (0, 1), {})(X, note="hi", other=1)
    assert torch.equal(Y, X + 1) and Z == {"note": "hi", "other": 1, "seen": "hi"}
    Y, Z = Picky(4, (0, 1), {})(X, note="n", other=1)  # 'other' is not in Picky's signature: not passed
    assert Z["note_was"] == "n" and Z["other"] == 1


def test_forward_contract_checks_shapes_and_forbids_forward_override():
    with pytest.raises(ValueError, match="batch, seq_len, 4"):
        Writer(4, (0, 1), {})(torch.zeros(2, 4))

    class Shrinker(GAUBase):
        def _forward(self, X, **Z):
            return X[:, :1]

    with pytest.raises(ValueError, match="input's shape"):
        Shrinker(4, (0, 1), {})(torch.zeros(1, 3, 4))
    with pytest.raises(TypeError, match="overrides forward"):
        class Bad(GAUBase):
            def forward(self, X):
                return X
