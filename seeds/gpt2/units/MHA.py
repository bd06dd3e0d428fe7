import torch
import torch.nn.functional as F
from torch import nn

from genesys.gau import GAUBase, UnitDecl, gau_test


class MHA(GAUBase):
    """Causal multi-head self-attention whose positional encoding is a child unit.

    Fused QKV projection (no bias) into n_heads heads of embed_dim / n_heads; q and k go through the child
    RotaryEmbedding one after the other (Z['input_emb'] -> Z['output_emb'], each (B, H, L, head_dim)), then
    causal scaled-dot-product attention and the output projection. The positional encoding is its own unit, as in
    the original seed (MHA -> RotaryPositionalEmbeddings), so evolution can replace it without touching the
    attention. Only Y is returned: q and k stay inside this unit rather than travelling on in Z.
    """

    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None,
                 n_heads: int = 8, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        if embed_dim % n_heads:
            raise ValueError(f"embed_dim {embed_dim} is not divisible by n_heads {n_heads}")
        self.n_heads = n_heads
        self.head_dim = embed_dim // n_heads
        self.qkv_proj = nn.Linear(embed_dim, 3 * embed_dim, bias=False, **self.factory_kwargs)
        self.rotary_emb = RotaryEmbedding(embed_dim=self.embed_dim, block_loc=self.block_loc,
                                          kwarg_all=self.kwarg_all, **self.factory_kwargs, **self.kwarg_all)
        self.out_proj = nn.Linear(embed_dim, embed_dim, bias=False, **self.factory_kwargs)

    def _forward(self, X, **Z):
        B, L, D = X.shape
        q, k, v = self.qkv_proj(X).view(B, L, 3, self.n_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q = self.rotary_emb(X, **{**Z, "input_emb": q})[1]["output_emb"]
        k = self.rotary_emb(X, **{**Z, "input_emb": k})[1]["output_emb"]
        out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.out_proj(out.transpose(1, 2).reshape(B, L, D))


@gau_test
def test_mha_causal_and_relative_positions(device=None, dtype=None):
    """Causal; Z reaches the rotary child, and only relative positions matter: shifting every position by 7 leaves
    the output unchanged, spreading them (2t) changes it."""
    torch.manual_seed(0)
    mha = MHA(32, (0, 1), {}, device=device, dtype=dtype, n_heads=4)
    X = torch.randn(2, 9, 32, device=device, dtype=dtype)
    Y, Z = mha(X)
    assert Y.shape == X.shape and "output_emb" not in Z and "input_emb" not in Z
    X2 = X.clone()
    X2[:, 5:] = torch.randn_like(X2[:, 5:])
    assert torch.allclose(mha(X2)[0][:, :5], Y[:, :5], atol=1e-5)
    pos = torch.arange(9, device=device)
    assert torch.allclose(mha(X, input_pos=pos + 7)[0], Y, atol=1e-4)
    assert not torch.allclose(mha(X, input_pos=2 * pos)[0], Y, atol=1e-3)


CHILDREN_DECLARATIONS = [
    UnitDecl(unitname="RotaryEmbedding", requirements="positional encoding of q and k: rotates Z['input_emb'] "
             "(batch, heads, seq_len, head_dim) by position, returns Z['output_emb'] of the same shape",
             inputs=["input_emb", "*input_pos"], outputs=["output_emb"]),
]
SPEC = {
    "unitname": "MHA",
    "inputs": ["X"],
    "outputs": ["Y"],
    "document": "Causal multi-head softmax attention with fused QKV projection; q and k are position-encoded by "
                "the child RotaryEmbedding.",
}
ARGS = {"n_heads": 8}
CHILDREN = ["RotaryEmbedding"]
DESC = "Multi-head attention (Vaswani et al., 2017); positions by its rotary child (Su et al., 2021)."
