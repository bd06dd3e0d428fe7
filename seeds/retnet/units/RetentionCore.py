import torch
import torch.nn.functional as F

from genesys.gau import GAUBase, gau_test


class RetentionCore(GAUBase):
    """The retention of RetNet (Sun et al., 2023), parameter-free: per head h of H, with fixed decay
    gamma_h = 1 - 2^(-5-h), the linear recurrence S_t = gamma S_{t-1} + k_t^T v_t, o_t = q_t S_t.

    The tensors do not fit the X -> Y contract (v has 2 * D / H channels per head), so they travel in Z: the unit
    reads ret_q, ret_k (B, H, L, dk; q and k already position-encoded and scaled) and ret_v (B, H, L, dv) and writes
    ret_o (B, H, L, dv). Y is X unchanged. Two forms, the same result: `chunkwise` (training default: parallel
    inside chunks of retnet_chunk_size, the dk x dv state carried between chunks) and `parallel`
    ((Q K^T * Dmask) V, quadratic in L).

    Numerics: decay factors are exp of an exponent masked *before* exp (never inf * 0 = NaN at any length); the
    scan runs in at least float32 with autocast off, so under bf16 autocast the gamma powers, and the matmuls
    that apply them, stay float32 (the output keeps q's dtype).
    """

    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None,
                 retnet_chunk_size: int = 64, retnet_mode: str = "chunkwise", **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        if retnet_mode not in ("chunkwise", "parallel"):
            raise ValueError(f"retnet_mode must be 'chunkwise' or 'parallel', got {retnet_mode!r}")
        if retnet_chunk_size < 1:
            raise ValueError(f"retnet_chunk_size must be positive, got {retnet_chunk_size}")
        self.chunk_size = retnet_chunk_size
        self.mode = retnet_mode

    def _forward(self, X, ret_q=None, ret_k=None, ret_v=None, **Z):
        if ret_q is None or ret_k is None or ret_v is None:
            raise ValueError("RetentionCore needs ret_q, ret_k and ret_v in Z (its parent sets them)")
        log_decay = self.log_decays(ret_q.shape[1], ret_q.device, torch.promote_types(ret_q.dtype, torch.float32))
        if self.mode == "parallel":
            o = self.parallel_retention(ret_q, ret_k, ret_v, log_decay)
        else:
            o = self.chunkwise_retention(ret_q, ret_k, ret_v, log_decay, self.chunk_size)
        return X, {"ret_o": o}

    # ---- the forms (static, so that composition into one module cannot collide) ---------------------
    @staticmethod
    def log_decays(n_heads: int, device=None, dtype=torch.float32):
        """log gamma_h = log(1 - 2^(-5-h)), h = 0..n_heads-1 (computed in float64, then cast)."""
        h = torch.arange(n_heads, dtype=torch.float64, device=device)
        return torch.log1p(-torch.exp2(-5.0 - h)).to(dtype)

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
        out_dtype, cdt = q.dtype, torch.promote_types(q.dtype, torch.float32)
        with torch.autocast(q.device.type, enabled=False):
            q, k, v, log_decay = (t.to(cdt) for t in (q, k, v, log_decay))
            D = RetentionCore.decay_matrix(q.shape[-2], log_decay)
            return ((q @ k.transpose(-1, -2) * D) @ v).to(out_dtype)

    @staticmethod
    def chunkwise_retention(q, k, v, log_decay, chunk_size: int):
        """Retention by chunks of C: inside a chunk the parallel form, between chunks the state R (dk x dv).

        O_i = (Q_i K_i^T * Dmask) V_i + (Q_i R_{i-1}) * gamma^(j+1),
        R_i = gamma^C R_{i-1} + K_i^T (V_i * gamma^(C-1-j)). The sequence is zero-padded to a multiple of C
        (at the scan level); padded positions come last and are dropped.
        """
        out_dtype, cdt = q.dtype, torch.promote_types(q.dtype, torch.float32)
        with torch.autocast(q.device.type, enabled=False):
            q, k, v, log_decay = (t.to(cdt) for t in (q, k, v, log_decay))
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
            inner = RetentionCore.decay_matrix(C, log_decay)[:, None]         # (H, 1, C, C)
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
            return out.reshape(B, H, n * C, dv)[:, :, :L].to(out_dtype)


@gau_test
def test_retentioncore_chunkwise_equals_parallel(device=None, dtype=None):
    """Chunkwise (several chunk sizes, lengths not multiples of the chunk) equals the parallel form, float64."""
    core = RetentionCore(8, (0, 1), {}, device=device)
    f64 = dict(device=device, dtype=torch.float64)
    q, k, v = torch.randn(2, 4, 37, 8, **f64), torch.randn(2, 4, 37, 8, **f64) / 8, torch.randn(2, 4, 37, 16, **f64)
    X = torch.zeros(2, 37, 8, device=device, dtype=dtype)
    core.mode = "parallel"
    Y, Z = core(X, ret_q=q, ret_k=k, ret_v=v)
    assert Y is X and Z["ret_o"].shape == (2, 4, 37, 16)
    ref = Z["ret_o"]
    core.mode = "chunkwise"
    for chunk in (1, 8, 16, 64):
        core.chunk_size = chunk
        err = (core(X, ret_q=q, ret_k=k, ret_v=v)[1]["ret_o"] - ref).abs().max() / ref.abs().max()
        assert err < 1e-10, (chunk, float(err))


@gau_test
def test_retentioncore_decays(device=None, dtype=None):
    """gamma_h = 1 - 2^(-5-h): a lone key at t = 0 is seen at t with weight gamma_h^t."""
    core = RetentionCore(8, (0, 1), {}, device=device, retnet_chunk_size=4)
    f64 = dict(device=device, dtype=torch.float64)
    L, H = 10, 3
    q = torch.ones(1, H, L, 1, **f64)
    k = torch.zeros(1, H, L, 1, **f64)
    k[:, :, 0] = 1.0
    v = torch.ones(1, H, L, 1, **f64)
    o = core(torch.zeros(1, L, 8, device=device, dtype=dtype), ret_q=q, ret_k=k, ret_v=v)[1]["ret_o"][0, :, :, 0]
    gamma = 1 - 2.0 ** (-5 - torch.arange(H, **f64))
    assert torch.allclose(o, gamma[:, None] ** torch.arange(L, **f64), rtol=1e-12)


CHILDREN_DECLARATIONS = []
SPEC = {
    "unitname": "RetentionCore",
    "inputs": ["X", "ret_q", "ret_k", "ret_v"],
    "outputs": ["Y", "ret_o"],
    "document": "Multi-scale retention scan: reads q, k (B, H, L, dk) and v (B, H, L, dv) from Z, writes "
                "o_t = q_t S_t with S_t = gamma_h S_{t-1} + k_t^T v_t (gamma_h = 1 - 2^(-5-h)); Y = X.",
}
ARGS = {"retnet_chunk_size": 64, "retnet_mode": "chunkwise"}
CHILDREN = []
DESC = "Retention core of RetNet (Sun et al., 2023): fixed per-head decays, chunkwise or parallel form."
