import torch
import torch.nn.functional as F
from torch import nn

from genesys.gau import GAUBase, gau_test


class RWKV6WKV(GAUBase):
    """The RWKV-6 WKV core: multi-head linear attention with per-channel data-dependent decay and a bonus u.

    Reads Z['wkv_r'], Z['wkv_k'] (B, L, K), Z['wkv_v'] (B, L, V) and Z['wkv_log_decay'] (B, L, K), log w <= 0,
    and per head (K/H key channels, V/H value channels, state S in R^{K/H x V/H}) computes
        o_t = r_t (S_{t-1} + diag(u) k_t^T v_t),   S_t = diag(w_t) S_{t-1} + k_t^T v_t
    returning o in Z['wkv_o'] (B, L, V), in float32 or wider; Y = X. u (H, K/H) is the bonus of the current
    token, a raw parameter (no weight decay). The training form is the chunked `wkv_chunked`.
    """

    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None,
                 rwkv6_n_heads: int = 4, rwkv6_expand_k: float = 0.5, rwkv6_expand_v: float = 1.0,
                 rwkv6_chunk_size: int = 16, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        self.n_heads = rwkv6_n_heads
        self.key_dim = int(embed_dim * rwkv6_expand_k)
        self.value_dim = int(embed_dim * rwkv6_expand_v)
        if self.key_dim % self.n_heads or self.value_dim % self.n_heads:
            raise ValueError(f"key dim {self.key_dim} and value dim {self.value_dim} must be divisible by "
                             f"rwkv6_n_heads {self.n_heads}")
        self.chunk_size = rwkv6_chunk_size
        self.bonus = nn.Parameter(torch.zeros(self.n_heads, self.key_dim // self.n_heads, **self.factory_kwargs))
        if self.bonus.device.type != "meta":
            self._init_weights()

    @torch.no_grad()
    def _init_weights(self):
        """u = r (1 - k / (K-1)) + 0.1 ((k + 1) mod 3 - 1), r = layer / (n_layer - 1): RWKV-6's init."""
        layer, n_layer = self.block_loc
        r01 = layer / max(n_layer - 1, 1)
        K = self.key_dim
        n = torch.arange(K, device=self.bonus.device, dtype=torch.float64) / max(K - 1, 1)
        idx = torch.arange(K, device=self.bonus.device)
        u = r01 * (1.0 - n) + ((idx + 1) % 3 - 1).to(torch.float64) * 0.1
        self.bonus.copy_(u.view(self.n_heads, -1))

    @staticmethod
    def wkv_chunked(r, k, v, lw, u, chunk_size: int = 16, initial_state=None):
        """Chunked WKV-6. r, k, lw: (B, H, L, K); v: (B, H, L, V); u: (H, K); lw = log w <= 0 (finite).

        Returns (o, S): o (B, H, L, V) with o_t = r_t (S_{t-1} + diag(u) k_t^T v_t), and the final state S
        (B, H, K, V) of S_t = diag(exp(lw_t)) S_{t-1} + k_t^T v_t, starting from initial_state (or zeros).
        Everything runs in float32 or wider with autocast off: under bf16 autocast the sums of log-decays below
        (up to a chunk of them) would be rounded to 3 significant digits and their exponents come out percents
        off; the core's matmuls are a small part of the block's work, so keeping them in float32 costs little.
        """
        dt = torch.promote_types(torch.promote_types(r.dtype, lw.dtype), torch.float32)
        args = [t.to(dt) for t in (r, k, v, lw, u)]
        state = initial_state.to(dt) if initial_state is not None else None
        if torch.amp.is_autocast_available(r.device.type):
            with torch.autocast(r.device.type, enabled=False):
                return RWKV6WKV._chunked(*args, chunk_size, state)
        return RWKV6WKV._chunked(*args, chunk_size, state)

    @staticmethod
    def _chunked(r, k, v, lw, u, chunk_size, initial_state):
        """wkv_chunked in the inputs' dtype. Every decay exponent is a direct sum of log-decays over the positions
        it spans (never a difference of cumulative sums, which cancels catastrophically under strong decay) and
        the intra-chunk exponents of the masked pairs (j >= i) are exactly 0, never positive, so no exp() can
        overflow and no inf * 0 reaches the backward pass. L is padded up to a multiple of the chunk here, with
        k = v = 0 and lw = 0."""
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
        # the exponents, by one 0/1 selection matmul over the chunk (rows of zeros give exact zeros, so the
        # safety above holds under any matmul precision, TF32 included):
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

    def _forward(self, X, wkv_r=None, wkv_k=None, wkv_v=None, wkv_log_decay=None, **Z):
        B, L, _ = X.shape
        H = self.n_heads
        r, k, v, lw = (t.reshape(B, L, H, -1).transpose(1, 2) for t in (wkv_r, wkv_k, wkv_v, wkv_log_decay))
        o, _ = self.wkv_chunked(r, k, v, lw, self.bonus, self.chunk_size)
        return X, {"wkv_o": o.transpose(1, 2).reshape(B, L, self.value_dim)}


@gau_test
def test_rwkv6wkv_matches_recurrence(device=None, dtype=None):
    """The chunked WKV equals the step-by-step recurrence (L not a multiple of the chunk, carried state)."""
    torch.manual_seed(0)
    B, H, L, K, V = 2, 2, 11, 3, 4
    f64 = dict(device=device, dtype=torch.float64)
    r, k = torch.randn(B, H, L, K, **f64), torch.randn(B, H, L, K, **f64)
    v, u = torch.randn(B, H, L, V, **f64), torch.randn(H, K, **f64)
    lw = -torch.exp(torch.randn(B, H, L, K, **f64))
    S0 = torch.randn(B, H, K, V, **f64)
    o, S = RWKV6WKV.wkv_chunked(r, k, v, lw, u, chunk_size=4, initial_state=S0)
    S_ref, outs = S0.clone(), []
    for t in range(L):
        kv = k[:, :, t, :, None] * v[:, :, t, None, :]
        outs.append((r[:, :, t, :, None] * (S_ref + u[None, :, :, None] * kv)).sum(-2))
        S_ref = torch.exp(lw[:, :, t, :, None]) * S_ref + kv
    assert torch.allclose(o, torch.stack(outs, 2), atol=1e-10), (o - torch.stack(outs, 2)).abs().max()
    assert torch.allclose(S, S_ref, atol=1e-10)


@gau_test
def test_rwkv6wkv_unit_heads_and_causality(device=None, dtype=None):
    wkv = RWKV6WKV(16, (1, 3), {}, device=device, dtype=dtype, rwkv6_n_heads=2, rwkv6_chunk_size=4)
    X = torch.zeros(1, 9, 16, device=device, dtype=dtype)
    r, k = torch.randn(1, 9, 8, device=device), torch.randn(1, 9, 8, device=device)
    v = torch.randn(1, 9, 16, device=device, requires_grad=True)
    lw = -torch.rand(1, 9, 8, device=device)
    Y, Z = wkv(X, wkv_r=r, wkv_k=k, wkv_v=v, wkv_log_decay=lw)
    assert Y is X and Z["wkv_o"].shape == (1, 9, 16)
    Z["wkv_o"][:, 4, :8].sum().backward()        # head 0 at t = 4 reads head 0's values up to t = 4 only
    assert v.grad[:, 5:].abs().max() == 0 and v.grad[:, :5, 8:].abs().max() == 0 and v.grad[:, 4, :8].abs().max() > 0


CHILDREN_DECLARATIONS = []
SPEC = {
    "unitname": "RWKV6WKV",
    "inputs": ["X", "wkv_r", "wkv_k", "wkv_v", "wkv_log_decay"],
    "outputs": ["Y", "wkv_o"],
    "document": "Multi-head WKV-6 with data-dependent per-channel decay and bonus u, in an overflow-free chunked "
                "form computed in float32 (autocast off); output in Z['wkv_o'] (B, L, V); Y = X.",
}
ARGS = {"rwkv6_n_heads": 4, "rwkv6_expand_k": 0.5, "rwkv6_expand_v": 1.0, "rwkv6_chunk_size": 16}
CHILDREN = []
DESC = "RWKV-6 WKV (Peng et al., 2024): a chunked pure-PyTorch form of the data-dependent-decay recurrence."
