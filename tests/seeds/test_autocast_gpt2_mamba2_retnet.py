"""bf16 autocast (CPU) for the gpt2, mamba2 and retnet cores: each core's output against its float64 reference.

Inputs (and weights) are rounded to bf16 first, so the reference sees exactly the numbers the autocast run sees
and the error measures only what the core computes in reduced precision (issue 10, item 3).

- mamba2 SSDCore and retnet RetentionCore: the cumulative log-decays, their exponents and the matmuls that apply
  them (intra-chunk decay masks, chunk states, state passing) must stay float32. Before the cores turned autocast
  off, those matmuls ran in bf16: 4e-3 .. 7e-3 relative error on these cases (bounds below: 2e-6); float32
  round-off is ~2e-7.
- gpt2 MHA: bf16 projections and attention are the intended mixed precision (~3e-3); the RoPE angles must be
  float32, which positions up to 8191 check (a bf16 position or angle is off by whole radians there).
"""
import pytest
import torch

from genesys.gau import compose, load_design, load_module
from genesys.paths import SEEDS_DIR
from seed_helpers import rel_err

F64 = torch.float64


def module(seed):
    tree = load_design(SEEDS_DIR / seed)
    return load_module(compose(tree), tree.name)


def bf16_exact(*shape, scale=1.0, gen=None, positive=False):
    """float64 values that bf16 represents exactly."""
    t = torch.rand(*shape, generator=gen, dtype=F64) if positive else torch.randn(*shape, generator=gen, dtype=F64)
    return (t * scale).bfloat16().double()


def autocast():
    return torch.autocast("cpu", dtype=torch.bfloat16)


# ---- mamba2: the SSD scan ------------------------------------------------------------------------------------
@pytest.mark.parametrize("L,dt_scale,A_range", [
    (512, 0.3, (0.1, 4.0)),        # init-like decays: the intra-chunk part dominates
    (2048, 0.1, (0.01, 0.02)),     # slow decays: the state passed between 32 chunks dominates
])
def test_ssd_core_under_autocast_is_float32(L, dt_scale, A_range):
    mod = module("mamba2")
    g = torch.Generator().manual_seed(0)
    b, h, p, n = 1, 4, 16, 16
    x, B, C = bf16_exact(b, L, h, p, gen=g), bf16_exact(b, L, n, gen=g), bf16_exact(b, L, n, gen=g)
    dt = bf16_exact(b, L, h, scale=dt_scale, gen=g, positive=True)
    A = -(A_range[0] + bf16_exact(h, scale=A_range[1] - A_range[0], gen=g, positive=True))
    core = mod.SSDCore(8, (0, 1), {}, ssd_chunk_size=64)
    X = torch.zeros(b, L, 8)
    ref = core(X.double(), ssd_x=x, ssd_dt=dt, ssd_A=A, ssd_B=B, ssd_C=C)[1]["ssd_y"]
    with autocast():
        y = core(X, ssd_x=x.float(), ssd_dt=dt.float(), ssd_A=A.float(), ssd_B=B.float(), ssd_C=C.float())[1]["ssd_y"]
    assert y.dtype == torch.float32
    assert rel_err(y, ref) <= 2e-6, rel_err(y, ref)


# ---- retnet: the retention scan -------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["chunkwise", "parallel"])
def test_retention_core_under_autocast_is_float32(mode):
    mod = module("retnet")
    g = torch.Generator().manual_seed(0)
    b, h, L, dk, dv = 2, 8, 512, 16, 32   # 8 heads: gamma from 1 - 2^-5 to 1 - 2^-12 (slow, long memory)
    q, v = bf16_exact(b, h, L, dk, scale=0.5, gen=g), bf16_exact(b, h, L, dv, scale=0.5, gen=g)
    k = bf16_exact(b, h, L, dk, scale=0.125, gen=g)
    core = mod.RetentionCore(8, (0, 1), {}, retnet_chunk_size=64, retnet_mode=mode)
    X = torch.zeros(b, L, 8)
    ref = core(X.double(), ret_q=q, ret_k=k, ret_v=v)[1]["ret_o"]
    with autocast():
        o = core(X, ret_q=q.float(), ret_k=k.float(), ret_v=v.float())[1]["ret_o"]
    assert o.dtype == torch.float32
    assert rel_err(o, ref) <= 2e-6, rel_err(o, ref)


# ---- gpt2: attention with RoPE ----------------------------------------------------------------------------------
def test_rope_angles_float32_under_autocast_at_far_positions():
    mod = module("gpt2")
    g = torch.Generator().manual_seed(0)
    rope = mod.RotaryEmbedding(64, (0, 1), {})
    x = bf16_exact(1, 2, 64, 64, gen=g)
    pos = torch.arange(8191 - 63, 8192)
    X = torch.zeros(1, 64, 64)
    ref = rope(X.double(), input_emb=x, input_pos=pos)[1]["output_emb"]
    with autocast():
        out = rope(X, input_emb=x.bfloat16(), input_pos=pos)[1]["output_emb"]
    assert rel_err(out, ref) <= 8e-3, rel_err(out, ref)


def test_mha_under_autocast_against_float64():
    mod = module("gpt2")
    torch.manual_seed(0)
    mha = mod.MHA(64, (0, 1), {}, dtype=F64, n_heads=4)
    with torch.no_grad():
        for p in mha.parameters():
            p.copy_(p.bfloat16().double())
    mha32 = mod.MHA(64, (0, 1), {}, n_heads=4)
    mha32.load_state_dict(mha.state_dict())
    X = bf16_exact(2, 1024, 64, gen=torch.Generator().manual_seed(1))
    with torch.no_grad():
        ref = mha(X)[0]
        with autocast():
            Y = mha32(X.float())[0]
    assert rel_err(Y, ref) <= 6e-3, rel_err(Y, ref)
