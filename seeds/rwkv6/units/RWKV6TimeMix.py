import math

import torch
import torch.nn.functional as F
from torch import nn

from genesys.gau import GAUBase, gau_test


class RWKV6TimeMix(GAUBase):
    """RWKV-6 (Finch) time mixing: token shift, data-dependent lerp and decay, multi-head WKV with bonus u.

    With xx_t = x_{t-1} - x_t (x_{-1} = 0) and low-rank maps A (rank rwkv6_mix_lora_rank, shared) and B_*:
        x_* = x + xx * (mu_* + tanh((x + xx * mu_x) A) B_*)            for * in w, k, v, r, g
        r, k, v = W_r x_r, W_k x_k, W_v x_v;  g = silu(W_g x_g)
        log w_t = -exp(d + tanh(x_w A_w) B_w)       (rank rwkv6_decay_lora_rank, per key channel)
    and per head (state S in R^{K x V}):
        o_t = r_t (S_{t-1} + diag(u) k_t^T v_t),   S_t = diag(w_t) S_{t-1} + k_t^T v_t
        Y   = out_proj(GroupNorm_head(o) * g)
    The key width is rwkv6_expand_k * D and the value width rwkv6_expand_v * D (0.5 and 1 as in the original
    seed), which with the 3.5 D channel mix keeps the block at about 12 D^2 parameters.

    Training uses the chunked form (`wkv_chunked`): every decay exponent is a direct sum of log-decays over the
    positions it spans (never a difference of cumulative sums, which cancels catastrophically under strong
    decay) and the intra-chunk exponents of the masked pairs (j >= i) are exactly 0, never positive, so no
    exp() can overflow and no inf * 0 reaches the backward pass.
    """

    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None,
                 rwkv6_n_heads: int = 4, rwkv6_expand_k: float = 0.5, rwkv6_expand_v: float = 1.0,
                 rwkv6_mix_lora_rank: int = 32, rwkv6_decay_lora_rank: int = 64, rwkv6_chunk_size: int = 16,
                 rwkv6_gn_eps: float = 6.4e-4, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        D = embed_dim
        self.n_heads = rwkv6_n_heads
        self.key_dim = int(D * rwkv6_expand_k)
        self.value_dim = int(D * rwkv6_expand_v)
        if self.key_dim % self.n_heads or self.value_dim % self.n_heads:
            raise ValueError(f"key dim {self.key_dim} and value dim {self.value_dim} must be divisible by "
                             f"rwkv6_n_heads {self.n_heads}")
        self.head_k = self.key_dim // self.n_heads
        self.head_v = self.value_dim // self.n_heads
        self.mix_rank = rwkv6_mix_lora_rank
        self.chunk_size = rwkv6_chunk_size
        fk = self.factory_kwargs
        # token-shift lerp: mu_x and mu_{w,k,v,r,g} (rows of maa in that order), shared down A, per-target up B
        self.maa_x = nn.Parameter(torch.zeros(D, **fk))
        self.maa = nn.Parameter(torch.zeros(5, D, **fk))
        self.maa_w1 = nn.Parameter(torch.zeros(D, 5 * rwkv6_mix_lora_rank, **fk))
        self.maa_w2 = nn.Parameter(torch.zeros(5, rwkv6_mix_lora_rank, D, **fk))
        # data-dependent decay and bonus, per key channel
        self.time_decay = nn.Parameter(torch.zeros(self.key_dim, **fk))
        self.decay_w1 = nn.Parameter(torch.zeros(D, rwkv6_decay_lora_rank, **fk))
        self.decay_w2 = nn.Parameter(torch.zeros(rwkv6_decay_lora_rank, self.key_dim, **fk))
        self.time_first = nn.Parameter(torch.zeros(self.n_heads, self.head_k, **fk))
        self.receptance = nn.Linear(D, self.key_dim, bias=False, **fk)
        self.key = nn.Linear(D, self.key_dim, bias=False, **fk)
        self.value = nn.Linear(D, self.value_dim, bias=False, **fk)
        self.gate = nn.Linear(D, self.value_dim, bias=False, **fk)
        self.out_proj = nn.Linear(self.value_dim, D, bias=False, **fk)
        self.ln_x = nn.GroupNorm(self.n_heads, self.value_dim, eps=rwkv6_gn_eps, **fk)
        if self.maa.device.type != "meta":
            self._init_weights()

    @torch.no_grad()
    def _init_weights(self):
        """RWKV-6 layer-dependent init: lerp weights and decay speeds depend on the depth (block_loc)."""
        layer, n_layer = self.block_loc
        r01 = layer / max(n_layer - 1, 1)             # 0 at the first block, 1 at the last
        r1a0 = 1.0 - layer / max(n_layer, 1)          # 1 at the first block, 1/n at the last
        D, K = self.embed_dim, self.key_dim
        dev = self.maa.device
        ddd = torch.arange(D, device=dev, dtype=torch.float64) / D
        self.maa_x.copy_(1.0 - ddd.pow(r1a0))
        self.maa[0].copy_(1.0 - ddd.pow(r1a0))                  # w
        self.maa[1].copy_(1.0 - ddd.pow(r1a0))                  # k
        self.maa[2].copy_(1.0 - (ddd.pow(r1a0) + 0.3 * r01))    # v
        self.maa[3].copy_(1.0 - ddd.pow(0.5 * r1a0))            # r
        self.maa[4].copy_(1.0 - ddd.pow(0.5 * r1a0))            # g
        self.maa_w1.uniform_(-1e-4, 1e-4)
        self.maa_w2.uniform_(-1e-4, 1e-4)
        n = torch.arange(K, device=dev, dtype=torch.float64) / max(K - 1, 1)
        self.time_decay.copy_(-6.0 + 5.0 * n.pow(0.7 + 1.3 * r01))   # w in about [exp(-e^-1), exp(-e^-6)]
        self.decay_w1.uniform_(-1e-4, 1e-4)
        self.decay_w2.uniform_(-1e-4, 1e-4)
        idx = torch.arange(K, device=dev)
        u = r01 * (1.0 - n) + ((idx + 1) % 3 - 1).to(torch.float64) * 0.1
        self.time_first.copy_(u.view(self.n_heads, self.head_k))
        self.ln_x.reset_parameters()

    @staticmethod
    def token_shift(X):
        """xx_t = x_{t-1} - x_t with x_{-1} = 0 (per sequence, along dim 1)."""
        return F.pad(X, (0, 0, 1, -1)) - X

    @staticmethod
    def split_heads(t, n_heads: int):
        """(B, L, n_heads * d) -> (B, n_heads, L, d)."""
        B, L, C = t.shape
        return t.view(B, L, n_heads, C // n_heads).transpose(1, 2)

    @staticmethod
    def wkv_chunked(r, k, v, lw, u, chunk_size: int = 16, initial_state=None):
        """Chunked WKV-6. r, k, lw: (B, H, L, K); v: (B, H, L, V); u: (H, K); lw = log w <= 0 (finite).

        Returns (o, S): o (B, H, L, V) with o_t = r_t (S_{t-1} + diag(u) k_t^T v_t), and the final state S
        (B, H, K, V) of S_t = diag(exp(lw_t)) S_{t-1} + k_t^T v_t, starting from initial_state (or zeros).
        L is padded up to a multiple of the chunk here, at the scan level, with k = v = 0 and lw = 0.
        """
        B, H, L, K = r.shape
        V = v.shape[-1]
        Q = chunk_size
        N = (L + Q - 1) // Q
        pad = N * Q - L
        if pad:
            r, k, v, lw = (F.pad(t, (0, 0, 0, pad)) for t in (r, k, v, lw))
        r = r.reshape(B, H, N, Q, K)
        k = k.reshape(B, H, N, Q, K)
        v = v.reshape(B, H, N, Q, V)
        lw = lw.reshape(B, H, N, Q, K)
        # Every decay exponent is a direct sum of log-decays, taken by one 0/1 selection matmul over the chunk
        # (rows of zeros give exact zeros, so the safety below holds under any matmul precision, TF32 included):
        #   seg[i, j] = sum_{j < t < i} lw_t   (intra-chunk pairs; exactly 0, never positive, where j >= i - 1)
        #   pre[i]    = sum_{t < i} lw_t       (reading the state at the chunk start)
        #   suf[j]    = sum_{t > j} lw_t       (writing k_j v_j into the state at the chunk end)
        #   tot       = sum_t lw_t             (decay of the state across the chunk)
        pos = torch.arange(Q, device=r.device)
        i_, j_, t_ = pos.view(Q, 1, 1), pos.view(1, Q, 1), pos.view(1, 1, Q)
        sel = torch.cat([((t_ > j_) & (t_ < i_)).view(Q * Q, Q), pos.view(1, Q) < pos.view(Q, 1),
                         pos.view(1, Q) > pos.view(Q, 1), torch.ones(1, Q, dtype=torch.bool, device=r.device)])
        sums = torch.matmul(sel.to(lw.dtype), lw)                                  # (B, H, N, Q^2 + 2Q + 1, K)
        seg, pre, suf, tot = sums.split([Q * Q, Q, Q, 1], dim=-2)
        seg = seg.view(B, H, N, Q, Q, K)
        # intra-chunk scores: exp() only sees exponents <= 0; the pairs j >= i are masked on the (Q, Q) scores
        scores = (r.unsqueeze(-2) * torch.exp(seg) * k.unsqueeze(-3)).sum(-1)     # (B, H, N, Q, Q)
        scores = scores * (j_ < i_).view(Q, Q).to(scores.dtype)
        bonus = (r * u.view(1, H, 1, 1, K) * k).sum(-1)                            # u bonus, on the diagonal
        scores = scores + torch.diag_embed(bonus)
        # inter-chunk: S_n = exp(tot_n) S_{n-1} + sum_j (k_j exp(suf_j))^T v_j, a short loop over the chunks
        # expanded to (B, H, N, K, V) so that the backward reduces over V once, not once per chunk
        chunk_decay = torch.exp(tot).transpose(-1, -2).expand(B, H, N, K, V)
        updates = torch.matmul((k * torch.exp(suf)).transpose(-1, -2), v)          # (B, H, N, K, V)
        S = initial_state if initial_state is not None else r.new_zeros(B, H, K, V)
        states = []
        # unbind once: indexing [:, :, n] inside the loop would make the backward fill N full-size zero grads
        for dec_n, upd_n in zip(chunk_decay.unbind(2), updates.unbind(2)):
            states.append(S)
            S = dec_n * S + upd_n
        o = torch.matmul(scores, v) + torch.matmul(r * torch.exp(pre), torch.stack(states, dim=2))
        return o.reshape(B, H, N * Q, V)[:, :, :L], S

    def _forward(self, X, **Z):
        B, L, D = X.shape
        H, R = self.n_heads, self.mix_rank
        xx = self.token_shift(X)
        xxx = X + xx * self.maa_x
        m = torch.tanh(xxx @ self.maa_w1).view(B * L, 5, R).transpose(0, 1)      # (5, B L, R)
        m = torch.bmm(m, self.maa_w2).view(5, B, L, D) + self.maa.view(5, 1, 1, D)
        xw, xk, xv, xr, xg = (X + xx * m_i for m_i in m.unbind(0))
        r = self.receptance(xr)
        k = self.key(xk)
        v = self.value(xv)
        g = F.silu(self.gate(xg))
        pre = self.time_decay + torch.tanh(xw @ self.decay_w1) @ self.decay_w2
        # compute in float32 at least; clamping the exponent at 20 changes nothing representable
        # (w = exp(-e^20) is 0 even in float64) but keeps log w finite for the selection matmuls
        wdt = torch.float32 if X.dtype in (torch.float16, torch.bfloat16) else X.dtype
        lw = -torch.exp(pre.to(wdt).clamp(max=20.0))
        r, k, lw = (self.split_heads(t.to(wdt), H) for t in (r, k, lw))
        o, _ = self.wkv_chunked(r, k, self.split_heads(v.to(wdt), H), lw, self.time_first.to(wdt), self.chunk_size)
        o = o.transpose(1, 2).reshape(B * L, self.value_dim)
        o = self.ln_x(o.to(X.dtype)).view(B, L, self.value_dim)
        return self.out_proj(o * g)


@gau_test
def test_rwkv6_timemix_matches_recurrence(device=None, dtype=None):
    """The chunked WKV equals the step-by-step recurrence (L not a multiple of the chunk, carried state)."""
    torch.manual_seed(0)
    B, H, L, K, V = 2, 2, 11, 3, 4
    f64 = dict(device=device, dtype=torch.float64)
    r, k = torch.randn(B, H, L, K, **f64), torch.randn(B, H, L, K, **f64)
    v, u = torch.randn(B, H, L, V, **f64), torch.randn(H, K, **f64)
    lw = -torch.exp(torch.randn(B, H, L, K, **f64))
    S0 = torch.randn(B, H, K, V, **f64)
    o, S = RWKV6TimeMix.wkv_chunked(r, k, v, lw, u, chunk_size=4, initial_state=S0)
    S_ref, outs = S0.clone(), []
    for t in range(L):
        kv = k[:, :, t, :, None] * v[:, :, t, None, :]
        outs.append((r[:, :, t, :, None] * (S_ref + u[None, :, :, None] * kv)).sum(-2))
        S_ref = torch.exp(lw[:, :, t, :, None]) * S_ref + kv
    assert torch.allclose(o, torch.stack(outs, 2), atol=1e-10), (o - torch.stack(outs, 2)).abs().max()
    assert torch.allclose(S, S_ref, atol=1e-10)


@gau_test
def test_rwkv6_timemix_causal_and_finite(device=None, dtype=None):
    tm = RWKV6TimeMix(32, (1, 3), {}, device=device, dtype=dtype, rwkv6_chunk_size=4)
    X = torch.randn(2, 9, 32, device=device, dtype=dtype, requires_grad=True)
    Y, _ = tm(X)
    Y[:, 4].sum().backward()
    assert torch.isfinite(Y).all()
    assert X.grad[:, 5:].abs().max() == 0 and X.grad[:, :5].abs().max() > 0


CHILDREN_DECLARATIONS = []
SPEC = {
    "unitname": "RWKV6TimeMix",
    "inputs": ["X"],
    "outputs": ["Y"],
    "document": "RWKV-6 time mixing: token shift with data-dependent (LoRA) lerp, data-dependent per-channel "
                "decay, multi-head matrix-valued WKV state with bonus u, per-head GroupNorm and a SiLU gate. "
                "Trained with an overflow-free chunked form.",
}
ARGS = {
    "rwkv6_n_heads": 4,
    "rwkv6_expand_k": 0.5,
    "rwkv6_expand_v": 1.0,
    "rwkv6_mix_lora_rank": 32,
    "rwkv6_decay_lora_rank": 64,
    "rwkv6_chunk_size": 16,
    "rwkv6_gn_eps": 0.00064,
}
CHILDREN = []
DESC = "RWKV-6 (Finch, Peng et al., 2024) time mixer with data-dependent decay, in a chunked pure-PyTorch form."
