import torch
import torch.nn.functional as F
from torch import nn

from genesys.gau import GAUBase, UnitDecl, gau_test


class MultiScaleRetention(GAUBase):
    """Multi-scale retention (RetNet, Sun et al., 2023): W_o(swish(X W_g) * GroupRMS(Retention(X))).

    Per head h (of H): q, k of dim dk = D/H, v of dim 2*dk (one fused projection for q, k, v and the gate).
    q and k are position-encoded by the child RotaryEmbedding (one call on the (B, 2H, L, dk) stack of both), k is
    scaled by dk^-0.5, and the child RetentionCore runs the decayed linear recurrence (fixed gamma_h) in chunkwise
    or parallel form; the tensors travel to it in Z (ret_q, ret_k, ret_v -> ret_o). Each head's output is
    RMS-normalised (no gain), gated by swish(X W_g) and projected back to D by out_proj. Half-precision inputs
    (and bf16 autocast) are rotated and retained in float32; the projections follow the caller's precision.
    Only Y is returned: the per-head tensors stay inside this unit.
    """

    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None,
                 retnet_n_heads: int = 8, retnet_norm_eps: float = 1e-6, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        if embed_dim % retnet_n_heads or (embed_dim // retnet_n_heads) % 2:
            raise ValueError(f"embed_dim {embed_dim} must split into {retnet_n_heads} heads of even size")
        self.n_heads = retnet_n_heads
        self.key_dim = embed_dim // retnet_n_heads
        self.value_dim = 2 * self.key_dim
        self.norm_eps = retnet_norm_eps
        # q (D), k (D), v (2D), gate (2D) in one projection; out_proj 2D -> D: 8 D^2 parameters in all.
        self.qkvg_proj = nn.Linear(embed_dim, 6 * embed_dim, bias=False, **self.factory_kwargs)
        self.rotary_emb = RotaryEmbedding(embed_dim=self.embed_dim, block_loc=self.block_loc,
                                          kwarg_all=self.kwarg_all, **self.factory_kwargs, **self.kwarg_all)
        self.retention = RetentionCore(embed_dim=self.embed_dim, block_loc=self.block_loc,
                                       kwarg_all=self.kwarg_all, **self.factory_kwargs, **self.kwarg_all)
        self.out_proj = nn.Linear(2 * embed_dim, embed_dim, bias=False, **self.factory_kwargs)

    def _forward(self, X, **Z):
        B, L, D = X.shape
        H, dk, dv = self.n_heads, self.key_dim, self.value_dim
        qk, v, g = self.qkvg_proj(X).split([2 * D, 2 * D, 2 * D], dim=-1)
        cdtype = torch.float32 if X.dtype in (torch.float16, torch.bfloat16) else X.dtype
        qk = qk.to(cdtype).view(B, L, 2 * H, dk).transpose(1, 2)                  # (B, 2H, L, dk): q heads, k heads
        qk = self.rotary_emb(X, **{**Z, "input_emb": qk})[1]["output_emb"]
        q, k = qk[:, :H], qk[:, H:] * dk ** -0.5
        v = v.reshape(B, L, H, dv).transpose(1, 2).to(cdtype)
        o = self.retention(X, **{**Z, "ret_q": q, "ret_k": k, "ret_v": v})[1]["ret_o"]
        o = F.rms_norm(o, (dv,), None, self.norm_eps)
        o = o.transpose(1, 2).reshape(B, L, 2 * D).to(X.dtype)
        return self.out_proj(F.silu(g) * o)


@gau_test
def test_multiscaleretention_chunkwise_equals_parallel(device=None, dtype=None):
    """Chunkwise (several chunk sizes, lengths not multiples of the chunk) equals the parallel form."""
    msr = MultiScaleRetention(32, (0, 1), {}, device=device, dtype=torch.float64, retnet_n_heads=4)
    X = torch.randn(2, 37, 32, device=device, dtype=torch.float64)
    msr.retention.mode = "parallel"
    ref, _ = msr(X)
    msr.retention.mode = "chunkwise"
    for chunk in (1, 8, 16, 64):
        msr.retention.chunk_size = chunk
        Y, _ = msr(X)
        err = (Y - ref).abs().max() / ref.abs().max()
        assert err < 1e-10, (chunk, float(err))


@gau_test
def test_multiscaleretention_causal(device=None, dtype=None):
    """Changing the future leaves the past unchanged; any length works (1, odd)."""
    cfg = {"retnet_chunk_size": 4}
    msr = MultiScaleRetention(32, (0, 1), cfg, device=device, dtype=dtype, **cfg)
    assert msr.retention.chunk_size == 4
    X = torch.randn(1, 11, 32, device=device, dtype=dtype)
    Y, _ = msr(X)
    X2 = X.clone()
    X2[:, 6:] += 1.0
    Y2, _ = msr(X2)
    assert torch.allclose(Y[:, :6], Y2[:, :6], atol=1e-6)
    assert not torch.allclose(Y[:, 6:], Y2[:, 6:])
    assert msr(X[:, :1])[0].shape == (1, 1, 32)


CHILDREN_DECLARATIONS = [
    UnitDecl(unitname="RotaryEmbedding", requirements="positional encoding of q and k: rotates Z['input_emb'] "
             "(batch, heads, seq_len, head_dim) by position, returns Z['output_emb'] of the same shape",
             inputs=["input_emb", "*input_pos"], outputs=["output_emb"]),
    UnitDecl(unitname="RetentionCore", requirements="causal decayed linear attention per head: reads ret_q, ret_k "
             "(B, H, L, dk) and ret_v (B, H, L, dv) from Z, writes ret_o (B, H, L, dv)",
             inputs=["X", "ret_q", "ret_k", "ret_v"], outputs=["Y", "ret_o"]),
]
SPEC = {
    "unitname": "MultiScaleRetention",
    "inputs": ["X"],
    "outputs": ["Y"],
    "document": "Multi-scale retention: fused q, k, v (value dim 2D), gate projection; q, k position-encoded by the "
                "rotary child; retention by the core child; per-head RMS norm, swish gate, output projection.",
}
ARGS = {
    "retnet_n_heads": 8,
    "retnet_norm_eps": 1e-06,
}
CHILDREN = ["RotaryEmbedding", "RetentionCore"]
DESC = "Multi-scale retention (Sun et al., 2023, RetNet), the token mixer of the retnet seed."
