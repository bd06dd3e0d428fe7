import math

import torch
import torch.nn.functional as F
from torch import nn

from genesys.gau import GAUBase, gau_test


class MultiScaleRetention(GAUBase):
    """Multi-scale retention (RetNet, Sun et al., 2023): W_o(swish(X W_g) * GroupRMS(Retention(X))).

    Per head h (of H): q, k of dim dk = D/H, v of dim 2*dk; q and k rotated RoPE-style (rotate-half pairs
    (i, i + dk/2), angle t * theta^(-2i/dk)); k scaled by dk^-0.5; fixed decay gamma_h = 1 - 2^(-5-h).
    Retention is the linear recurrence S_t = gamma S_{t-1} + k_t^T v_t, o_t = q_t S_t, computed here either
    chunkwise (training default: parallel inside chunks of retnet_chunk_size, state carried between chunks) or
    fully parallel ((Q K^T * Dmask) V). Decay factors are always exp of an exponent masked *before* exp, so
    neither form overflows (no inf * 0 = NaN) at any length. Each head's output is RMS-normalised (no gain),
    gated by swish(X W_g) and projected back to D by out_proj. Half-precision inputs are retained in float32.
    """

    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None,
                 retnet_n_heads: int = 8, retnet_chunk_size: int = 64, retnet_rope_theta: float = 10000.0,
                 retnet_norm_eps: float = 1e-6, retnet_mode: str = "chunkwise", **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        if embed_dim % retnet_n_heads or (embed_dim // retnet_n_heads) % 2:
            raise ValueError(f"embed_dim {embed_dim} must split into {retnet_n_heads} heads of even size")
        if retnet_mode not in ("chunkwise", "parallel"):
            raise ValueError(f"retnet_mode must be 'chunkwise' or 'parallel', got {retnet_mode!r}")
        if retnet_chunk_size < 1:
            raise ValueError(f"retnet_chunk_size must be positive, got {retnet_chunk_size}")
        self.n_heads = retnet_n_heads
        self.key_dim = embed_dim // retnet_n_heads
        self.value_dim = 2 * self.key_dim
        self.chunk_size = retnet_chunk_size
        self.rope_theta = retnet_rope_theta
        self.norm_eps = retnet_norm_eps
        self.mode = retnet_mode
        # q (D), k (D), v (2D), gate (2D) in one projection; out_proj 2D -> D: 8 D^2 parameters in all.
        self.qkvg_proj = nn.Linear(embed_dim, 6 * embed_dim, bias=False, **self.factory_kwargs)
        self.out_proj = nn.Linear(2 * embed_dim, embed_dim, bias=False, **self.factory_kwargs)

    # ---- helpers (static, so that composition into one module cannot collide) -----------------------
    @staticmethod
    def log_decays(n_heads: int, device=None, dtype=torch.float32):
        """log gamma_h = log(1 - 2^(-5-h)), h = 0..n_heads-1 (computed in float64, then cast)."""
        h = torch.arange(n_heads, dtype=torch.float64, device=device)
        return torch.log1p(-torch.exp2(-5.0 - h)).to(dtype)

    @staticmethod
    def rotary(L: int, dim: int, theta: float, device=None, dtype=torch.float32):
        """cos, sin of shape (L, dim/2) for angle t * theta^(-2i/dim), computed in float64, then cast."""
        inv_freq = theta ** (-torch.arange(0, dim, 2, dtype=torch.float64, device=device) / dim)
        angles = torch.outer(torch.arange(L, dtype=torch.float64, device=device), inv_freq)
        return angles.cos().to(dtype), angles.sin().to(dtype)

    @staticmethod
    def rotate(x, cos, sin):
        """Rotate pairs (i, i + dim/2) of x (..., dim) by the angles behind cos, sin (broadcastable, last dim dim/2)."""
        x1, x2 = x.chunk(2, dim=-1)
        return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1)

    @staticmethod
    def decay_matrix(n: int, log_decay):
        """(H, n, n) with [h, i, j] = gamma_h^(i-j) for i >= j else 0; the exponent is masked before exp."""
        idx = torch.arange(n, device=log_decay.device)
        diff = idx[:, None] - idx[None, :]
        expo = diff.to(log_decay.dtype) * log_decay[:, None, None]
        return torch.exp(expo.masked_fill(diff < 0, float("-inf")))

    @staticmethod
    def parallel_retention(q, k, v, log_decay):
        """O = (Q K^T * Dmask) V for q, k (B, H, L, dk), v (B, H, L, dv), log_decay (H,) (all < 0)."""
        D = MultiScaleRetention.decay_matrix(q.shape[-2], log_decay)
        return (q @ k.transpose(-1, -2) * D) @ v

    @staticmethod
    def chunkwise_retention(q, k, v, log_decay, chunk_size: int):
        """Retention by chunks of C: inside a chunk the parallel form, between chunks the state R (dk x dv).

        O_i = (Q_i K_i^T * Dmask) V_i + (Q_i R_{i-1}) * gamma^(j+1),
        R_i = gamma^C R_{i-1} + K_i^T (V_i * gamma^(C-1-j)). The sequence is zero-padded to a multiple of C
        after the projections (at the scan level); padded positions come last and are dropped.
        """
        B, H, L, dk = q.shape
        dv = v.shape[-1]
        C = max(1, min(chunk_size, L))
        n = -(-L // C)
        pad = n * C - L
        if pad:
            q, k, v = (F.pad(t, (0, 0, 0, pad)) for t in (q, k, v))
        q = q.reshape(B, H, n, C, dk)
        k = k.reshape(B, H, n, C, dk)
        v = v.reshape(B, H, n, C, dv)
        idx = torch.arange(C, device=q.device, dtype=q.dtype)
        lam = log_decay[:, None]                                          # (H, 1)
        inner = MultiScaleRetention.decay_matrix(C, log_decay)[:, None]   # (H, 1, C, C)
        out = (q @ k.transpose(-1, -2) * inner) @ v                       # intra-chunk
        if n > 1:
            k_w = torch.exp((C - 1 - idx) * lam)[:, None, :, None]          # (H, 1, C, 1), exponents <= 0
            chunk_states = (k * k_w).transpose(-1, -2) @ v                  # (B, H, n, dk, dv)
            gamma_C = torch.exp(C * log_decay)[:, None, None]               # (H, 1, 1)
            R = torch.zeros(B, H, dk, dv, device=q.device, dtype=q.dtype)
            states = [R]
            for S in chunk_states.unbind(2)[:-1]:  # unbind, not indexing: its backward is one stack
                R = R * gamma_C + S
                states.append(R)
            R_prev = torch.stack(states, dim=2)                             # state before each chunk
            q_w = torch.exp((idx + 1) * lam)[:, None, :, None]              # (H, 1, C, 1)
            out = out + (q * q_w) @ R_prev
        return out.reshape(B, H, n * C, dv)[:, :, :L]

    def _forward(self, X, **Z):
        B, L, D = X.shape
        H, dk, dv = self.n_heads, self.key_dim, self.value_dim
        qk, v, g = self.qkvg_proj(X).split([2 * D, 2 * D, 2 * D], dim=-1)
        cdtype = torch.float32 if X.dtype in (torch.float16, torch.bfloat16) else X.dtype
        # rotate q and k in one op; the dk^-0.5 score scale rides on k's cos and sin
        cos, sin = self.rotary(L, dk, self.rope_theta, X.device, cdtype)
        scale = torch.tensor([1.0, dk ** -0.5], device=X.device, dtype=cdtype)[:, None, None]
        cos, sin = cos[:, None, None] * scale, sin[:, None, None] * scale       # (L, 2, 1, dk/2)
        qk = self.rotate(qk.reshape(B, L, 2, H, dk).to(cdtype), cos, sin).permute(2, 0, 3, 1, 4)
        q, k = qk[0], qk[1]                                                       # (B, H, L, dk)
        v = v.reshape(B, L, H, dv).transpose(1, 2).to(cdtype)
        log_decay = self.log_decays(H, X.device, cdtype)
        if self.mode == "parallel":
            o = self.parallel_retention(q, k, v, log_decay)
        else:
            o = self.chunkwise_retention(q, k, v, log_decay, self.chunk_size)
        o = F.rms_norm(o, (dv,), None, self.norm_eps)
        o = o.transpose(1, 2).reshape(B, L, 2 * D).to(X.dtype)
        return self.out_proj(F.silu(g) * o)


@gau_test
def test_multiscaleretention_chunkwise_equals_parallel(device=None, dtype=None):
    """Chunkwise (several chunk sizes, lengths not multiples of the chunk) equals the parallel form."""
    msr = MultiScaleRetention(32, (0, 1), {}, device=device, dtype=torch.float64, retnet_n_heads=4)
    X = torch.randn(2, 37, 32, device=device, dtype=torch.float64)
    msr.mode = "parallel"
    ref, _ = msr(X)
    msr.mode = "chunkwise"
    for chunk in (1, 8, 16, 64):
        msr.chunk_size = chunk
        Y, _ = msr(X)
        err = (Y - ref).abs().max() / ref.abs().max()
        assert err < 1e-10, (chunk, float(err))


@gau_test
def test_multiscaleretention_causal(device=None, dtype=None):
    """Changing the future leaves the past unchanged; any length works (1, odd)."""
    msr = MultiScaleRetention(32, (0, 1), {}, device=device, dtype=dtype, retnet_chunk_size=4)
    X = torch.randn(1, 11, 32, device=device, dtype=dtype)
    Y, _ = msr(X)
    X2 = X.clone()
    X2[:, 6:] += 1.0
    Y2, _ = msr(X2)
    assert torch.allclose(Y[:, :6], Y2[:, :6], atol=1e-6)
    assert not torch.allclose(Y[:, 6:], Y2[:, 6:])
    assert msr(X[:, :1])[0].shape == (1, 1, 32)


CHILDREN_DECLARATIONS = []
SPEC = {
    "unitname": "MultiScaleRetention",
    "inputs": ["X"],
    "outputs": ["Y"],
    "document": "Multi-scale retention: per-head fixed-decay linear attention with RoPE-rotated q, k (value dim 2D), "
                "per-head RMS norm, swish gate and output projection; chunkwise (or parallel) training form.",
}
ARGS = {
    "retnet_n_heads": 8,
    "retnet_chunk_size": 64,
    "retnet_rope_theta": 10000.0,
    "retnet_norm_eps": 1e-06,
    "retnet_mode": "chunkwise",
}
CHILDREN = []
DESC = "Multi-scale retention (Sun et al., 2023, RetNet), the token mixer of the retnet seed."
