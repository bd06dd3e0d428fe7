import torch
import torch.nn.functional as F
from torch import nn

from genesys.gau import GAUBase, gau_test


class RotaryMHA(GAUBase):
    """Causal multi-head self-attention with rotary position embeddings (RoPE) on queries and keys."""

    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None,
                 n_heads: int = 8, rope_theta: float = 10000.0, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        if embed_dim % n_heads:
            raise ValueError(f"embed_dim {embed_dim} is not divisible by n_heads {n_heads}")
        self.n_heads = n_heads
        self.head_dim = embed_dim // n_heads
        self.qkv_proj = nn.Linear(embed_dim, 3 * embed_dim, bias=False, **self.factory_kwargs)
        self.out_proj = nn.Linear(embed_dim, embed_dim, bias=False, **self.factory_kwargs)
        inv_freq = 1.0 / rope_theta ** (torch.arange(0, self.head_dim, 2, dtype=torch.float32) / self.head_dim)
        self.register_buffer("inv_freq", inv_freq, persistent=False)

    def rotate(self, x):
        """Apply RoPE to x of shape (B, H, L, head_dim), rotating pairs (i, i + head_dim/2)."""
        L = x.shape[-2]
        angles = torch.outer(torch.arange(L, device=x.device, dtype=torch.float32), self.inv_freq.float())
        cos, sin = angles.cos().to(x.dtype), angles.sin().to(x.dtype)
        x1, x2 = x.chunk(2, dim=-1)
        return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1)

    def _forward(self, X, **Z):
        B, L, D = X.shape
        q, k, v = self.qkv_proj(X).view(B, L, 3, self.n_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k = self.rotate(q), self.rotate(k)
        out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.out_proj(out.transpose(1, 2).reshape(B, L, D))


@gau_test
def test_rotary_mha_relative_positions(device=None, dtype=None):
    """RoPE makes q.k depend only on the offset between positions."""
    mha = RotaryMHA(32, (0, 1), {}, device=device, dtype=dtype, n_heads=2)
    q = torch.randn(1, 1, 1, 16, device=device, dtype=dtype).expand(1, 1, 6, 16)
    k = torch.randn(1, 1, 1, 16, device=device, dtype=dtype).expand(1, 1, 6, 16)
    rq, rk = mha.rotate(q), mha.rotate(k)
    s01 = (rq[..., 1, :] * rk[..., 0, :]).sum()
    s45 = (rq[..., 5, :] * rk[..., 4, :]).sum()
    assert torch.allclose(s01, s45, atol=1e-4), (s01, s45)


CHILDREN_DECLARATIONS = []
SPEC = {
    "unitname": "RotaryMHA",
    "inputs": ["X"],
    "outputs": ["Y"],
    "document": "Causal multi-head softmax attention with RoPE (theta 1e4) and fused QKV projection.",
}
ARGS = {"n_heads": 8, "rope_theta": 10000.0}
CHILDREN = []
DESC = "Multi-head attention (Vaswani et al., 2017) with rotary embeddings (Su et al., 2021)."
