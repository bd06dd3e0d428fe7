import torch
import torch.nn.functional as F
from torch import nn
import torch.utils.checkpoint

from genesys.gau import GAUBase, UnitDecl, gau_test


class TTTLinear(GAUBase):
    """TTT-Linear (Sun et al., 2024): a sequence mixer whose hidden state is a linear model trained at test time.

    Per head h (H heads of width f = D / H) the state is W in R^{f x f}, b in R^f. Token j brings the
    self-supervised loss l_j(W, b) = 1/2 ||LN(k_j W + b) - (v_j - k_j)||^2 (LN with a learned per-head gain and
    bias). Tokens are grouped into mini-batches of size b (a trailing L mod b part is its own short mini-batch);
    within a mini-batch every gradient is taken at the mini-batch's initial (W0, b0), and the step that token i
    (position i = 0..b-1 inside its mini-batch) sees from token j <= i has the learning rate of the official code

        eta[i, j] = tok_i * (base_lr / f) * sigmoid(x_j theta_h + beta_h),
        tok_i = max(0, 1/(i+1) + learnable_token_idx_i),

        W_i = W0 - sum_{j<=i} eta[i, j] k_j^T G_j,   b_i = b0 - sum_{j<=i} eta[i, j] G_j,   G_j = dl_j / dZ at W0,
        z_i = q_i W_i + b_i,    out_i = q_i + LN(z_i),

    i.e. position i takes the running mean of the mini-batch's gradients (at init, learnable_token_idx = 0), not
    their sum; the next mini-batch starts from the last row's (W, b) (tok_{b-1} = 1/b at init). Mini-batch size 1
    is plain online gradient descent (tok_0 = 1).

    Computed in the dual form: everything that does not depend on W is prepared for all mini-batches at once
    (projections, RoPE with positions mod b by the RotaryEmbedding child, eta, M = tril((Q K^T + 1) o eta),
    tok_{b-1} eta_j [k_j 1], the LN-gradient constants); the sequential loop only does [K; Q] W0 + b0 -> G
    (analytic LN backward), [W; b] -= (tok_{b-1} eta [K 1])^T G, keeping Q W0 + b0 and M G, whose difference
    (the QK^T part of M is (eta o Attn), the 1 part tril(eta)) is Z_bar, formed after the loop. b is kept as an
    extra row of W (inputs [k 1]). The loop centres K W0 + b0 explicitly: relying on a W centred over its
    outputs instead (exact in real arithmetic, as G has zero mean) let float32 round-off in the mean of W grow
    through the uncentred LN gradient, exponentially along the sequence (float32 vs float64 off by ~100 % after
    ~2000 tokens at init), at no measurable saving. Under autograd the loop runs
    in checkpointed groups of `ttt_checkpoint_group` mini-batches (0: off), so W is kept only at group
    boundaries, not for every mini-batch, once the per-mini-batch W that plain autograd would keep reach
    `ttt_checkpoint_min_mb` (the official code's long-context memory saving). Below that the recomputation is pure
    cost: at the CPU ladder's sizes (256 tokens, W of 16 x 17 per head) it made a training step 1.6x slower.
    Output: post LayerNorm, then out_proj.
    """

    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None,
                 ttt_n_heads=None, ttt_mini_batch: int = 16, ttt_base_lr: float = 1.0,
                 ttt_ln_eps: float = 1e-6, ttt_checkpoint_group: int = 8, ttt_checkpoint_min_mb: float = 32.0,
                 **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        n_heads = ttt_n_heads or max(4, embed_dim // 64)
        if embed_dim % n_heads or (embed_dim // n_heads) % 2:
            raise ValueError(f"embed_dim {embed_dim} must split into {n_heads} heads of even width")
        if ttt_mini_batch < 1:
            raise ValueError(f"ttt_mini_batch must be >= 1, got {ttt_mini_batch}")
        self.n_heads = n_heads
        self.head_dim = embed_dim // n_heads
        self.mini_batch = ttt_mini_batch
        self.base_lr = ttt_base_lr
        self.ln_eps = ttt_ln_eps
        self.checkpoint_group = ttt_checkpoint_group
        self.checkpoint_min_mb = ttt_checkpoint_min_mb
        H, f = self.n_heads, self.head_dim
        self.qkv_proj = nn.Linear(embed_dim, 3 * embed_dim, bias=False, **self.factory_kwargs)
        self.lr_proj = nn.Linear(embed_dim, H, bias=True, **self.factory_kwargs)  # theta_h, beta_h
        self.W1 = nn.Parameter(torch.empty(H, f, f, **self.factory_kwargs))
        self.b1 = nn.Parameter(torch.empty(H, 1, f, **self.factory_kwargs))
        # tok_i = max(0, 1/(i+1) + learnable_token_idx_i): a raw parameter (no weight decay), one per position
        self.learnable_token_idx = nn.Parameter(torch.empty(ttt_mini_batch, **self.factory_kwargs))
        self.ttt_norm_weight = nn.Parameter(torch.empty(H, f, **self.factory_kwargs))
        self.ttt_norm_bias = nn.Parameter(torch.empty(H, f, **self.factory_kwargs))
        self.post_norm = nn.LayerNorm(embed_dim, eps=ttt_ln_eps, **self.factory_kwargs)
        self.out_proj = nn.Linear(embed_dim, embed_dim, bias=False, **self.factory_kwargs)
        self.rotary_emb = RotaryEmbedding(embed_dim=self.embed_dim, block_loc=self.block_loc, kwarg_all=self.kwarg_all,
                                          **self.factory_kwargs, **self.kwarg_all)
        if self.W1.device.type != "meta":
            self._init_weights()

    @torch.no_grad()
    def _init_weights(self):
        nn.init.normal_(self.W1, std=0.02)
        nn.init.zeros_(self.b1)
        nn.init.zeros_(self.learnable_token_idx)
        nn.init.ones_(self.ttt_norm_weight)
        nn.init.zeros_(self.ttt_norm_bias)
        self.post_norm.reset_parameters()

    @staticmethod
    def token_factor(learnable_token_idx):
        """tok_i = max(0, 1/(i+1) + learnable_token_idx_i) for the positions i = 0..b-1 of a mini-batch."""
        pos = torch.arange(1, learnable_token_idx.shape[0] + 1, device=learnable_token_idx.device)
        return torch.clamp_min(1.0 / pos.to(learnable_token_idx.dtype) + learnable_token_idx, 0.0)

    def scan_group(self, batch: int, length: int, element_size: int) -> int:
        """Mini-batches per checkpointed group for this input (0: plain autograd): checkpointing only pays once the
        inner W that plain autograd keeps for every mini-batch, (B, H, f+1, f) each, reach checkpoint_min_mb."""
        n_mini = -(-length // self.mini_batch)
        kept_mb = n_mini * batch * self.n_heads * (self.head_dim + 1) * self.head_dim * element_size / 2 ** 20
        return self.checkpoint_group if kept_mb >= self.checkpoint_min_mb else 0

    @staticmethod
    def ttt_scan(W, kq, MK, c1, c2, eps: float):
        """The sequential part of the dual form over the mini-batches given as tuples (one tensor per mini-batch).

        W: (., H, f+1, f) the inner model with b as its last row; kq: [K 1; Q 1] (B, H, 2b, f+1); MK: [tril((QK^T+1) o eta);
        (tok_{b-1} eta_j [K 1])^T] (B, H, b+f+1, b). Returns ([Q W0 + b0], [M G], W) for the mini-batches."""
        zq, mg = [], []
        for kq_n, MK_n, c2_n in zip(kq, MK, c2):
            mb = MK_n.shape[-1]
            Zk, Zq = torch.matmul(kq_n, W).split(mb, dim=-2)            # K W0 + b0 and Q W0 + b0
            Zk = Zk - Zk.mean(-1, keepdim=True)                         # the LN's centring, explicitly (see above)
            rstd = torch.rsqrt(Zk.square().mean(-1, keepdim=True) + eps)
            xh = Zk * rstd
            gx = torch.addcmul(c2_n, c1, xh)                            # dl/d xhat = g * (g xhat + beta - target)
            G = rstd * torch.addcmul(gx - gx.mean(-1, keepdim=True), xh, (gx * xh).mean(-1, keepdim=True),
                                     value=-1.0)                        # dl/dZ through the LN, analytically
            MG, dW = torch.matmul(MK_n, G).split([mb, W.shape[-2]], dim=-2)
            zq.append(Zq)
            mg.append(MG)
            W = W - dW                                                  # [W; b] - (eta_last o [K 1])^T G
        return zq, mg, W

    @staticmethod
    def ttt_dual_form(q, k, target, eta, tok, W0, b0, ln_w, ln_b, eps: float, mini_batch: int, group: int = 0):
        """TTT-Linear over a whole sequence. q, k, target: (B, H, L, f); eta: (B, H, L), the token factor
        (base_lr / f) sigmoid(x_j theta + beta); tok: (b,), the position factor (eta[i, j] = tok_i eta_j);
        W0: (H, f, f); b0: (H, 1, f); ln_w, ln_b: (H, f). Returns q + LN(Z_bar): (B, H, L, f)."""
        B, H, L, f = q.shape
        mb = mini_batch
        N = -(-L // mb)
        pad = N * mb - L
        # a padded token has k = q = 0 and eta = 0: it changes no state and no earlier output, so a trailing short
        # mini-batch uses tok[:L mod b] for its rows (its hand-off row is never used)
        if pad:
            q, k, target = (F.pad(t, (0, 0, 0, pad)) for t in (q, k, target))
            eta = F.pad(eta, (0, pad))
        # mini-batches first: (N, B, H, b, .), so that each mini-batch is one contiguous tensor
        qc, kc, tc = (t.reshape(B, H, N, mb, f).movedim(2, 0) for t in (q, k, target))
        eta = eta.reshape(B, H, N, mb).movedim(2, 0)
        one = torch.ones_like(kc[..., :1])
        k1, q1 = torch.cat([kc, one], dim=-1), torch.cat([qc, one], dim=-1)        # [k 1], [q 1]
        eta_ij = tok.view(mb, 1) * eta.unsqueeze(-2)                                  # (N, B, H, b, b)
        M = ((torch.matmul(qc, kc.transpose(-1, -2)) + 1.0) * eta_ij).tril()          # tril((QK^T + 1) o eta)
        last = (k1 * (tok[-1] * eta).unsqueeze(-1)).transpose(-1, -2)                # (eta_last o [K 1])^T
        MK = torch.cat([M, last], dim=-2)                                            # (N, B, H, b+f+1, b)
        kq = torch.cat([k1, q1], dim=-2)                                             # (N, B, H, 2b, f+1)
        w = ln_w.view(1, H, 1, f)
        c1 = w * w
        c2 = w * (ln_b.view(1, H, 1, f) - tc)                                        # (N, B, H, b, f)
        W = torch.cat([W0, b0], dim=-2).unsqueeze(0)                                # (1, H, f+1, f)
        # one tensor per mini-batch (unbind: its backward is one stack, not a full-size zero tensor per slice)
        kq, MK, c2 = kq.contiguous().unbind(0), MK.contiguous().unbind(0), c2.contiguous().unbind(0)
        if group and torch.is_grad_enabled() and N > group:
            zq, mg = [], []  # checkpointed groups: autograd keeps W only at group boundaries
            for n0 in range(0, N, group):
                part = slice(n0, n0 + group)
                zq_g, mg_g, W = torch.utils.checkpoint.checkpoint(
                    TTTLinear.ttt_scan, W, kq[part], MK[part], c1, c2[part], eps, use_reentrant=False)
                zq += zq_g
                mg += mg_g
        else:
            zq, mg, W = TTTLinear.ttt_scan(W, kq, MK, c1, c2, eps)
        Zbar = (torch.stack(zq, dim=2) - torch.stack(mg, dim=2)).reshape(B, H, N * mb, f)[:, :, :L]
        Zn = F.layer_norm(Zbar, (f,), eps=eps) * ln_w.view(1, H, 1, f) + ln_b.view(1, H, 1, f)
        return q[:, :, :L] + Zn

    def _forward(self, X, **Z):
        B, L, D = X.shape
        H, f = self.n_heads, self.head_dim
        # the q, k, v projections may run in low precision (autocast); the inner learning problem may not: its
        # learning rates, RoPE, inner LayerNorm and the sequential scan (whose errors would compound over the
        # mini-batches) run in float32 (float64 for float64 inputs) with autocast off
        q, k, v = self.qkv_proj(X).view(B, L, 3, H, f).permute(2, 0, 3, 1, 4)   # (B, H, L, f) each
        cdt = torch.float64 if X.dtype == torch.float64 else torch.float32
        with torch.autocast(X.device.type, enabled=False):
            q, k, v = (t.to(cdt) for t in (q, k, v))
            lr_logits = F.linear(X.to(cdt), self.lr_proj.weight.to(cdt), self.lr_proj.bias.to(cdt))
            eta = (self.base_lr / f) * torch.sigmoid(lr_logits).transpose(1, 2)  # (B, H, L)
            tok = self.token_factor(self.learnable_token_idx.to(cdt))
            pos = torch.arange(L, device=X.device) % self.mini_batch              # RoPE within each mini-batch
            q = self.rotary_emb(X, input_emb=q, input_pos=pos)[1]["output_emb"]
            k = self.rotary_emb(X, input_emb=k, input_pos=pos)[1]["output_emb"]
            out = self.ttt_dual_form(q, k, v - k, eta, tok, self.W1.to(cdt), self.b1.to(cdt),
                                     self.ttt_norm_weight.to(cdt), self.ttt_norm_bias.to(cdt), self.ln_eps,
                                     self.mini_batch, self.scan_group(B, L, q.element_size()))
        out = out.to(X.dtype).transpose(1, 2).reshape(B, L, D)
        return self.out_proj(self.post_norm(out))


@gau_test
def test_ttt_linear_minibatch_one_is_online_gd(device=None, dtype=None):
    """With mini-batch 1 the dual form is online gradient descent on l_t (gradient by autograd), head by head."""
    torch.manual_seed(0)
    H, f, L = 2, 4, 7
    q, k, tgt = (torch.randn(1, H, L, f, dtype=torch.float64) for _ in range(3))
    eta = torch.rand(1, H, L, dtype=torch.float64) * 0.5
    W0 = torch.randn(H, f, f, dtype=torch.float64) * 0.3
    b0 = torch.randn(H, 1, f, dtype=torch.float64) * 0.1
    lw, lb = 1 + 0.1 * torch.randn(H, f, dtype=torch.float64), 0.1 * torch.randn(H, f, dtype=torch.float64)
    tok = TTTLinear.token_factor(torch.zeros(1, dtype=torch.float64))  # at b = 1: tok_0 = 1/(0+1) + 0 = 1
    out = TTTLinear.ttt_dual_form(q, k, tgt, eta, tok, W0, b0, lw, lb, 1e-6, 1)
    for h in range(H):
        W, b = W0[h].clone(), b0[h, 0].clone()
        for t in range(L):
            Wl, bl = W.clone().requires_grad_(), b.clone().requires_grad_()
            z = F.layer_norm(k[0, h, t] @ Wl + bl, (f,), lw[h], lb[h], 1e-6)
            gW, gb = torch.autograd.grad(0.5 * ((z - tgt[0, h, t]) ** 2).sum(), (Wl, bl))
            W, b = W - eta[0, h, t] * gW, b - eta[0, h, t] * gb
            ref = q[0, h, t] + F.layer_norm(q[0, h, t] @ W + b, (f,), lw[h], lb[h], 1e-6)
            assert torch.allclose(out[0, h, t], ref, atol=1e-10), (h, t)


@gau_test
def test_ttt_linear_shapes_and_causality(device=None, dtype=None):
    mix = TTTLinear(64, (0, 1), {}, device=device, dtype=dtype, ttt_mini_batch=4)
    X = torch.randn(2, 11, 64, device=device, dtype=dtype)
    Y, _ = mix(X)
    assert Y.shape == X.shape and torch.isfinite(Y).all()
    X2 = X.clone()
    X2[:, 6:] = torch.randn_like(X2[:, 6:])
    assert torch.allclose(mix(X2)[0][:, :6], Y[:, :6], atol=1e-5)


CHILDREN_DECLARATIONS = [
    UnitDecl(unitname="RotaryEmbedding", requirements="RoPE of Z['input_emb'] (B, H, L, f) at Z['input_pos'] "
             "(positions mod the mini-batch size), returned as Z['output_emb']",
             inputs=["input_emb", "*input_pos"], outputs=["output_emb"]),
]
SPEC = {
    "unitname": "TTTLinear",
    "inputs": ["X"],
    "outputs": ["Y"],
    "document": "TTT-Linear sequence mixer: per-head linear inner model trained by mini-batch gradient descent "
                "on a LayerNorm reconstruction loss as the sequence is read (dual form, mini-batch 16).",
}
ARGS = {
    "ttt_n_heads": None,
    "ttt_mini_batch": 16,
    "ttt_base_lr": 1.0,
    "ttt_ln_eps": 1e-06,
    "ttt_checkpoint_group": 8,
    "ttt_checkpoint_min_mb": 32.0,
}
CHILDREN = ["RotaryEmbedding"]
DESC = "TTT-Linear (Sun et al., 2024, 'Learning to (Learn at Test Time)'): an RNN whose state is a linear model."
