"""The retnet seed: retention (chunkwise and parallel forms) against a step-by-step recurrent reference written
here from SEEDS.md, chunk-size invariance, strong-decay stress at L = 2048, causality and the parameter budget."""
import math

import pytest
import torch
import torch.nn.functional as F

from genesys.gau import GenesysLM, run_gau_tests
from seed_helpers import rel_err

SEED = "retnet"
F64 = torch.float64


# ---- the recurrent reference (independent of the unit code) ------------------------------------------------
def gammas(n_heads):
    return torch.tensor([1.0 - 2.0 ** (-5 - h) for h in range(n_heads)], dtype=F64)


def reference_retention(q, k, v, gamma):
    """S_t = gamma S_{t-1} + k_t^T v_t, o_t = q_t S_t, one step at a time. q, k (B, H, L, dk), v (B, H, L, dv)."""
    q, k, v, gamma = q.double(), k.double(), v.double(), gamma.double()
    B, H, L, dk = q.shape
    S = torch.zeros(B, H, dk, v.shape[-1], dtype=F64)
    out = []
    for t in range(L):
        S = gamma[None, :, None, None] * S + k[:, :, t, :, None] * v[:, :, t, None, :]
        out.append(torch.einsum("bhd,bhde->bhe", q[:, :, t], S))
    return torch.stack(out, dim=2)


def reference_msr(msr, X):
    """The whole retention unit, token by token in float64, from its weights: project to q, k (D), v, gate (2D);
    rotate q, k at position t (pairs (i, i + dk/2), angle t * theta^(-2i/dk)); k /= sqrt(dk); recurrent state per
    head; RMS-normalise each head's o_t; out_proj(silu(gate) * o)."""
    X = X.double()
    W = msr.qkvg_proj.weight.detach().double()
    W_o = msr.out_proj.weight.detach().double()
    B, L, D = X.shape
    H = msr.n_heads
    dk, dv = D // H, 2 * D // H
    gamma = gammas(H)
    freqs = msr.rotary_emb.rope_theta ** (-torch.arange(0, dk, 2, dtype=F64) / dk)
    S = torch.zeros(B, H, dk, dv, dtype=F64)
    ys = []
    for t in range(L):
        p = X[:, t] @ W.T
        q, k = p[:, :D].reshape(B, H, dk), p[:, D:2 * D].reshape(B, H, dk)
        v, g = p[:, 2 * D:4 * D].reshape(B, H, dv), p[:, 4 * D:]
        c, s = torch.cos(t * freqs), torch.sin(t * freqs)
        h = dk // 2
        q = torch.cat([q[..., :h] * c - q[..., h:] * s, q[..., h:] * c + q[..., :h] * s], dim=-1)
        k = torch.cat([k[..., :h] * c - k[..., h:] * s, k[..., h:] * c + k[..., :h] * s], dim=-1) / math.sqrt(dk)
        S = gamma[None, :, None, None] * S + k[..., :, None] * v[..., None, :]
        o = torch.einsum("bhd,bhde->bhe", q, S)
        o = o / torch.sqrt(o.pow(2).mean(-1, keepdim=True) + msr.norm_eps)
        ys.append((F.silu(g) * o.reshape(B, 2 * D)) @ W_o.T)
    return torch.stack(ys, dim=1)


def make_msr(mod, D=32, n_heads=4, dtype=F64, seed=0, **kw):
    torch.manual_seed(seed)
    cfg = {"retnet_n_heads": n_heads, **kw}
    return mod.MultiScaleRetention(D, (0, 1), cfg, dtype=dtype, **cfg)


def random_qkv(B, H, L, dk, dv, dtype=F64, scale=1.0, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(B, H, L, d, generator=g, dtype=F64).mul(scale).to(dtype) for d in (dk, dk, dv)]


# ---- the retention core against the reference ---------------------------------------------------------------
@pytest.mark.parametrize("L,chunk", [(1, 16), (5, 16), (63, 16), (64, 16), (65, 32), (130, 32), (201, 64)])
def test_core_matches_recurrent_reference(mod, L, chunk):
    Core = mod.RetentionCore
    q, k, v = random_qkv(2, 3, L, 8, 16, scale=0.5)
    gamma = torch.tensor([1 - 2 ** -5, 0.9, 1 - 2 ** -12], dtype=F64)
    ref = reference_retention(q, k, v, gamma)
    log_decay = torch.log(gamma)
    assert rel_err(Core.chunkwise_retention(q, k, v, log_decay, chunk), ref) <= 1e-9
    assert rel_err(Core.parallel_retention(q, k, v, log_decay), ref) <= 1e-9
    q32, k32, v32 = (t.float() for t in (q, k, v))
    assert rel_err(Core.chunkwise_retention(q32, k32, v32, log_decay.float(), chunk), ref) <= 1e-4
    assert rel_err(Core.parallel_retention(q32, k32, v32, log_decay.float()), ref) <= 1e-4


def test_unit_decays_are_the_papers(mod):
    got = mod.RetentionCore.log_decays(8, dtype=F64).exp()
    assert torch.allclose(got, gammas(8), rtol=0, atol=1e-15)


# ---- the whole unit against the reference -------------------------------------------------------------------
@pytest.mark.parametrize("L,chunk", [(1, 16), (7, 16), (40, 16), (97, 32)])
def test_unit_matches_recurrent_reference_float64(mod, L, chunk):
    msr = make_msr(mod, retnet_chunk_size=chunk)
    X = torch.randn(2, L, 32, dtype=F64)
    ref = reference_msr(msr, X)
    for mode in ("chunkwise", "parallel"):
        msr.retention.mode = mode
        with torch.no_grad():
            Y, _ = msr(X)
        assert rel_err(Y, ref) <= 1e-9, mode


@pytest.mark.parametrize("L,chunk", [(33, 16), (150, 64)])
def test_unit_float32_matches_float64_reference(mod, L, chunk):
    msr = make_msr(mod, dtype=torch.float32, retnet_chunk_size=chunk)
    X = torch.randn(1, L, 32)
    ref = reference_msr(msr, X)
    for mode in ("chunkwise", "parallel"):
        msr.retention.mode = mode
        with torch.no_grad():
            Y, _ = msr(X)
        assert Y.dtype == torch.float32
        assert rel_err(Y, ref) <= 1e-4, mode


def test_chunk_size_invariance(mod):
    msr = make_msr(mod, D=64, n_heads=8)
    X = torch.randn(2, 150, 64, dtype=F64)
    msr.retention.mode = "parallel"
    with torch.no_grad():
        ref, _ = msr(X)
        msr.retention.mode = "chunkwise"
        for chunk in (16, 32, 64, 128, 1000):
            msr.retention.chunk_size = chunk
            assert rel_err(msr(X)[0], ref) <= 1e-12, chunk


def test_half_precision_input_retains_in_float32(mod):
    msr = make_msr(mod, dtype=torch.float32)
    X = torch.randn(1, 70, 32)
    with torch.no_grad():
        ref = msr(X)[0]
    with torch.no_grad():
        Y = msr.to(torch.bfloat16)(X.bfloat16())[0]
    assert Y.dtype == torch.bfloat16 and torch.isfinite(Y).all()
    assert rel_err(Y.float(), ref) < 0.1


# ---- numerical stress -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("form", ["chunkwise", "parallel"])
def test_strong_decay_long_sequence_is_finite(mod, form):
    """L = 2048 with decays down to 1e-8 per step: unmasked exponents would reach exp(+37000) (inf * 0 = NaN)."""
    Core = mod.RetentionCore
    q, k, v = random_qkv(1, 4, 2048, 4, 8, dtype=torch.float32, scale=3.0)
    for t in (q, k, v):
        t.requires_grad_(True)
    log_decay = torch.log(torch.tensor([1 - 2 ** -12, 0.5, 1e-3, 1e-8]))
    if form == "chunkwise":
        out = Core.chunkwise_retention(q, k, v, log_decay, 64)
    else:
        out = Core.parallel_retention(q, k, v, log_decay)
    out.pow(2).mean().backward()
    assert torch.isfinite(out).all()
    assert all(torch.isfinite(t.grad).all() for t in (q, k, v))
    # the strongest-decay head only sees the current token: o_t = (q_t . k_t) v_t
    local = (q[0, 3] * k[0, 3]).sum(-1, keepdim=True) * v[0, 3]
    assert torch.allclose(out[0, 3], local, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("form", ["chunkwise", pytest.param("parallel", marks=pytest.mark.slow)])
def test_block_long_sequence_gradients_finite(tree, mod, form):
    torch.manual_seed(0)
    block = mod.GAB(embed_dim=32, block_loc=(0, 1), retnet_mode=form)
    X = (torch.randn(1, 2048, 32) * 10).requires_grad_(True)
    Y, _ = block(X)
    Y.pow(2).mean().backward()
    assert torch.isfinite(Y).all() and torch.isfinite(X.grad).all()
    assert all(torch.isfinite(p.grad).all() for p in block.parameters())


# ---- causality and batch independence ----------------------------------------------------------------------
def test_causal_and_batch_independent(mod):
    torch.manual_seed(0)
    block = mod.GAB(embed_dim=32, block_loc=(0, 1), retnet_chunk_size=8, dtype=F64)
    X = torch.randn(3, 45, 32, dtype=F64, requires_grad=True)
    Y, _ = block(X)
    t = 20
    Y[1, t].sum().backward()
    grad = X.grad.abs().sum(-1)
    assert grad[1, t + 1:].max() == 0, "output at t depends on the future"
    assert grad[0].max() == 0 and grad[2].max() == 0, "batch elements mix"
    assert grad[1, : t + 1].min() > 0


# ---- design-level checks ----------------------------------------------------------------------------------------
SCALES = [(128, 6, 5.28e6), (256, 6, 12.9e6), (512, 6, 35.3e6), (768, 12, 109.6e6), (1024, 24, 334.9e6)]


@pytest.mark.parametrize("d_model,n_block,paper", SCALES)
def test_parameter_budget(tree, d_model, n_block, paper):
    n = GenesysLM.from_design(tree, d_model=d_model, n_block=n_block, vocab_size=32000, device="meta").num_params()
    reference = 32000 * d_model + n_block * 12 * d_model ** 2
    assert abs(reference / paper - 1) < 0.01
    assert abs(n / reference - 1) < 0.03, (n, reference)


def test_gau_tests_pass(tree):
    results = run_gau_tests(tree)
    assert results and all(v is None for v in results.values()), {k: v for k, v in results.items() if v}


def test_lm_forward_and_loss(tree):
    torch.manual_seed(0)
    lm = GenesysLM.from_design(tree, d_model=32, n_block=2, vocab_size=100)
    ids = torch.randint(0, 100, (2, 37))
    out = lm(ids, labels=ids)
    assert out.logits.shape == (2, 37, 100) and torch.isfinite(out.loss)
    out.loss.backward()
