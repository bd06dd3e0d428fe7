import math

import torch
import torch.nn.functional as F

from genesys.gau import GAUBase, gau_test


class SSDCore(GAUBase):
    """Chunked state-space-dual scan of Mamba2 (pure PyTorch, parameter-free).

    Per head, with state h in R^{P x N}:  a_t = dt_t * A,  h_t = exp(a_t) h_{t-1} + dt_t x_t B_t^T,  y_t = h_t C_t.
    Computed chunk by chunk (chunk Q = ssd_chunk_size): a masked "attention" inside each chunk plus chunk states
    passed between chunks. The result does not depend on Q; Q = 64 (the original used 256, tuned for its Triton
    kernels) keeps the per-head Q x Q tensors small, which in pure PyTorch is faster and lighter on CPU and GPU. The tensors do not fit the X -> Y contract (x has expand * D channels), so they travel
    in Z: the unit reads ssd_x (B, L, H, P), ssd_dt (B, L, H, already positive), ssd_A (H, negative),
    ssd_B and ssd_C (B, L, N; one group) and writes ssd_y (B, L, H, P). Y is X unchanged.

    Numerics: every exponent is a sum of a_k <= 0 formed by direct summation (no cumsum differences, no
    exp(a)·exp(-a) factoring), so exp never overflows; non-causal entries are exactly 0 (exp(-inf) between chunks,
    a zeroed score inside a chunk, where their exponent is an empty sum, 0); the sequence
    is padded here (x = 0, dt = 0, so a = 0) to a multiple of Q; the scan runs in at least float32 with autocast off
    (under bf16 autocast the matmuls would otherwise round the decay factors and the passed states to bf16).
    """

    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None,
                 ssd_chunk_size: int = 64, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        if ssd_chunk_size < 1:
            raise ValueError(f"ssd_chunk_size must be positive, got {ssd_chunk_size}")
        self.chunk_size = int(ssd_chunk_size)

    def _forward(self, X, ssd_x=None, ssd_dt=None, ssd_A=None, ssd_B=None, ssd_C=None, **Z):
        if any(t is None for t in (ssd_x, ssd_dt, ssd_A, ssd_B, ssd_C)):
            raise ValueError("SSDCore needs ssd_x, ssd_dt, ssd_A, ssd_B and ssd_C in Z (its parent mixer sets them)")
        y = self.ssd_chunked(ssd_x, ssd_dt, ssd_A, ssd_B, ssd_C, self.chunk_size)
        return X, {"ssd_y": y}

    @staticmethod
    def segsum(a, upper: float = -math.inf):
        """(..., T) -> (..., T, T) with out[i, j] = a_{j+1} + ... + a_i for i >= j (0 on the diagonal) and
        `upper` for i < j (-inf: exp gives exactly 0 there; 0: the caller masks after exp).

        Built by a masked cumulative sum of the repeated vector, so each entry is a direct sum of its segment
        (cumsum_i - cumsum_j would lose precision to cancellation when the cumulative sums are large).
        """
        T = a.shape[-1]
        ones = torch.ones(T, T, dtype=torch.bool, device=a.device)
        # built transposed, [j, i], so the running sum is along the contiguous dim (faster on CPU); returned as a
        # transposed view: out.transpose(-1, -2) is contiguous
        rep = a.unsqueeze(-2).expand(*a.shape[:-1], T, T)  # rep[..., j, i] = a_i
        seg = torch.cumsum(rep.masked_fill(~torch.triu(ones, 1), 0.0), dim=-1)  # 0 where i <= j
        if upper != 0:
            seg = seg.masked_fill(~torch.triu(ones), upper)
        return seg.transpose(-1, -2)

    @staticmethod
    def ssd_chunked(x, dt, A, B, C, chunk_size: int = 64):
        """y (b, l, h, p) of the selective SSM, chunked. x (b, l, h, p), dt (b, l, h), A (h,), B, C (b, l, n)."""
        out_dtype = x.dtype
        cdt = torch.promote_types(x.dtype, torch.float32)
        # autocast off: under bf16 autocast the matmuls would take the fp32 decay factors (and the chunk
        # states they carry) down to bf16; here every step, including the state passing, stays fp32
        with torch.autocast(x.device.type, enabled=False):
            return SSDCore._ssd_chunked(*(t.to(cdt) for t in (x, dt, A, B, C)), chunk_size).to(out_dtype)

    @staticmethod
    def _ssd_chunked(x, dt, A, B, C, chunk_size: int):
        """ssd_chunked in the dtype of its inputs (all one dtype), whatever the autocast state."""
        b, l, h, p = x.shape
        n = B.shape[-1]
        q = max(1, min(int(chunk_size), l))
        pad = (-l) % q
        if pad:  # pad at the scan level: x = 0 and dt = 0 (so a = 0) leave the states untouched
            x = F.pad(x, (0, 0, 0, 0, 0, pad))
            dt = F.pad(dt, (0, 0, 0, pad))
            B = F.pad(B, (0, 0, 0, pad))
            C = F.pad(C, (0, 0, 0, pad))
        c = (l + pad) // q
        a = (dt * A).transpose(1, 2).reshape(b, h, c, q)                          # log-decays, <= 0
        xdt = (x * dt.unsqueeze(-1)).transpose(1, 2).reshape(b, h, c, q, p)
        Bc = B.reshape(b, 1, c, q, n)
        Cc = C.reshape(b, 1, c, q, n)

        # 1. inside each chunk: y_i = sum_{j<=i} (C_i . B_j) exp(a_{j+1} + ... + a_i) dt_j x_j
        # The causal mask goes on the head-shared scores (h times smaller than the decay): above the diagonal
        # the segment sums are exactly 0 (empty sums), so exp gives 1 there, and the masked score makes it 0.
        # Both q x q factors are kept transposed ([j, i], contiguous); the matmul reads them transposed for free.
        decay_t = torch.exp(SSDCore.segsum(a, upper=0.0).transpose(-1, -2))       # (b, h, c, q, q), exponents <= 0
        causal_t = torch.triu(torch.ones(q, q, dtype=torch.bool, device=a.device))
        scores_t = (Bc @ Cc.transpose(-1, -2)).masked_fill(~causal_t, 0.0)        # (b, 1, c, q, q): B_j . C_i
        y = (scores_t * decay_t).transpose(-1, -2) @ xdt                          # (b, h, c, q, p)

        if c > 1:
            # 2. state at each chunk's end: S_c = sum_j exp(a_{j+1} + ... + a_{q-1}) dt_j x_j B_j^T
            to_end = decay_t[..., -1:]                                            # last row of the segment sums
            states = xdt.transpose(-1, -2) @ (Bc * to_end)                        # (b, h, c, p, n)
            # 3. state entering chunk z: sum_{c' < z} exp(T_{c'+1} + ... + T_{z-1}) S_{c'}  (T = chunk totals)
            totals = a.sum(-1)                                                    # (b, h, c)
            chunk_decay = torch.exp(SSDCore.segsum(F.pad(totals[..., :-1], (1, 0))))  # (b, h, c, c)
            shifted = F.pad(states[:, :, :-1], (0, 0, 0, 0, 1, 0))               # [0, S_0, ..., S_{c-2}]
            state_in = (chunk_decay @ shifted.reshape(b, h, c, p * n)).reshape(b, h, c, p, n)
            # 4. contribution of the incoming state: exp(a_0 + ... + a_i) C_i state_in
            from_start = torch.exp(torch.cumsum(a, dim=-1)).unsqueeze(-1)         # (b, h, c, q, 1)
            y = y + (Cc * from_start) @ state_in.transpose(-1, -2)
        y = y.reshape(b, h, c * q, p).transpose(1, 2)[:, :l]
        return y


@gau_test
def test_ssdcore_matches_recurrence(device=None, dtype=None):
    torch.manual_seed(0)
    b, l, h, p, n = 2, 11, 3, 4, 5
    f64 = dict(device=device, dtype=torch.float64)
    x, B, C = torch.randn(b, l, h, p, **f64), torch.randn(b, l, n, **f64), torch.randn(b, l, n, **f64)
    dt = torch.rand(b, l, h, **f64) * 0.5
    A = -torch.rand(h, **f64) * 4
    state = torch.zeros(b, h, p, n, **f64)
    ref = []
    for t in range(l):
        state = torch.exp(dt[:, t] * A)[..., None, None] * state + torch.einsum(
            "bh,bhp,bn->bhpn", dt[:, t], x[:, t], B[:, t])
        ref.append(torch.einsum("bhpn,bn->bhp", state, C[:, t]))
    ref = torch.stack(ref, 1)
    for q in (1, 4, 11, 64):
        core = SSDCore(8, (0, 1), {}, device=device, dtype=dtype, ssd_chunk_size=q)
        X = torch.zeros(b, l, 8, device=device, dtype=dtype)
        Y, Z = core(X, ssd_x=x, ssd_dt=dt, ssd_A=A, ssd_B=B, ssd_C=C)
        assert Y is X and Z["ssd_y"].shape == ref.shape
        err = (Z["ssd_y"] - ref).abs().max() / ref.abs().max()
        assert err < 1e-10, (q, err.item())


@gau_test
def test_ssdcore_strong_decay_finite(device=None, dtype=None):
    torch.manual_seed(0)
    b, l, h, p, n = 1, 300, 2, 4, 8
    x = torch.randn(b, l, h, p, device=device, requires_grad=True)
    dt = (torch.rand(b, l, h, device=device) * 20).requires_grad_()
    A = torch.full((h,), -16.0, device=device, requires_grad=True)
    B, C = torch.randn(b, l, n, device=device), torch.randn(b, l, n, device=device)
    y = SSDCore.ssd_chunked(x, dt, A, B, C, 128)
    y.square().sum().backward()
    for t in (y, x.grad, dt.grad, A.grad):
        assert torch.isfinite(t).all()


CHILDREN_DECLARATIONS = []
SPEC = {
    "unitname": "SSDCore",
    "inputs": ["X", "ssd_x", "ssd_dt", "ssd_A", "ssd_B", "ssd_C"],
    "outputs": ["Y", "ssd_y"],
    "document": "Chunked SSD scan of Mamba2: reads x, dt, A, B, C from Z, writes y = SSM(x) to Z; Y = X.",
}
ARGS = {"ssd_chunk_size": 64}
CHILDREN = []
DESC = "State-space-duality core of Mamba2 (Dao & Gu, 2024), chunked form with numerically safe segment sums."
