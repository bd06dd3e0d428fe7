import torch

from genesys.gau import GAUBase, gau_test


class RotaryEmbedding(GAUBase):
    """Rotary position embedding (RoPE) of a per-head tensor handed over in Z.

    The parent puts the tensor to rotate in Z as `input_emb` (batch, heads, seq_len, head_dim), and optionally
    `input_pos` (seq_len,) integer positions (default 0..seq_len-1; TTT uses positions modulo its mini-batch).
    The rotated tensor comes back as Z['output_emb']; X passes through unchanged. Pairs (i, i + head_dim/2) are
    rotated by angle pos * theta^(-2i/head_dim), so q.k depends only on the offset between positions. Angles are
    computed in float32 (float64 for float64 inputs) whatever the autocast dtype.
    """

    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None,
                 rope_theta: float = 10000.0, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        self.rope_theta = rope_theta

    def _forward(self, X, input_emb, input_pos=None, **Z):
        x = input_emb
        L, f = x.shape[-2], x.shape[-1]
        if f % 2:
            raise ValueError(f"RotaryEmbedding needs an even head_dim, got {f}")
        dt = torch.float64 if x.dtype == torch.float64 else torch.float32
        inv_freq = 1.0 / self.rope_theta ** (torch.arange(0, f, 2, device=x.device, dtype=dt) / f)
        pos = torch.arange(L, device=x.device) if input_pos is None else input_pos
        angles = pos.to(dt)[:, None] * inv_freq[None, :]
        cos, sin = angles.cos().to(x.dtype), angles.sin().to(x.dtype)
        x1, x2 = x.chunk(2, dim=-1)
        return X, {"output_emb": torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1)}


@gau_test
def test_rotary_embedding_relative_positions(device=None, dtype=None):
    """RoPE makes q.k depend only on the offset between positions."""
    rope = RotaryEmbedding(32, (0, 1), {}, device=device, dtype=dtype)
    X = torch.zeros(1, 6, 32, device=device, dtype=dtype)
    q = torch.randn(1, 1, 1, 16, device=device, dtype=dtype).expand(1, 1, 6, 16)
    k = torch.randn(1, 1, 1, 16, device=device, dtype=dtype).expand(1, 1, 6, 16)
    rq = rope(X, input_emb=q)[1]["output_emb"]
    rk = rope(X, input_emb=k)[1]["output_emb"]
    s01 = (rq[..., 1, :] * rk[..., 0, :]).sum()
    s45 = (rq[..., 5, :] * rk[..., 4, :]).sum()
    assert torch.allclose(s01, s45, atol=1e-4), (s01, s45)


@gau_test
def test_rotary_embedding_positions(device=None, dtype=None):
    """Explicit positions: position 0 is the identity, and positions mod 4 repeat every 4 tokens."""
    rope = RotaryEmbedding(16, (0, 1), {}, device=device, dtype=dtype)
    X = torch.zeros(1, 8, 16, device=device, dtype=dtype)
    x = torch.randn(1, 2, 1, 8, device=device, dtype=dtype).expand(1, 2, 8, 8)
    out = rope(X, input_emb=x, input_pos=torch.arange(8, device=device) % 4)[1]["output_emb"]
    assert torch.allclose(out[..., 0, :], x[..., 0, :])
    assert torch.allclose(out[..., :4, :], out[..., 4:, :])


CHILDREN_DECLARATIONS = []
SPEC = {
    "unitname": "RotaryEmbedding",
    "inputs": ["input_emb", "*input_pos"],
    "outputs": ["output_emb"],
    "document": "Rotary position embedding of Z['input_emb'] (batch, heads, seq_len, head_dim) at positions "
                "Z['input_pos'] (default 0..L-1); returns Z['output_emb']; X passes through.",
}
ARGS = {"rope_theta": 10000.0}
CHILDREN = []
DESC = "Rotary position embeddings (Su et al., 2021, RoFormer)."
