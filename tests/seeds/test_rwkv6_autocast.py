"""rwkv6 under bf16 autocast: the decays stay float32 (SEEDS.md, "Training details").

Under torch.autocast(bfloat16) every matmul rounds its output to bf16 (3 significant digits). In RWKV-6 two
matmuls carry decays: the decay LoRA, whose output is the exponent of log w = -exp(d + tanh(x A) B), and the
WKV core's selection matmul, whose outputs are sums of up to a chunk of log-decays that go through exp(). Both
must run in float32. These tests bound the errors against float64 references on the same inputs (CPU autocast
rounds like CUDA's); with those two in bf16 the errors are 1e-3 to 1e-1 (see the bounds below)."""
import pytest
import torch

from seed_helpers import rel_err
from test_rwkv6 import random_inputs, wkv_reference

SEED = "rwkv6"
F64 = torch.float64


def bf16_autocast():
    return torch.autocast("cpu", dtype=torch.bfloat16)


def make_decay(mod, D=64, seed=0):
    """A decay unit whose low-rank term is O(1) (not its ~1e-8 init) and whose base spans weak to strong."""
    torch.manual_seed(seed)
    decay = mod.RWKV6DecayLoRA(D, (1, 3), {})
    with torch.no_grad():
        decay.down.normal_(0, D ** -0.5)
        decay.up.normal_(0, 0.5)
        decay.base.copy_(torch.linspace(-6.0, 1.5, decay.key_dim))
    return decay


def test_decay_log_w_float32_under_bf16_autocast(mod):
    decay = make_decay(mod)
    X = torch.randn(2, 40, 64, generator=torch.Generator().manual_seed(1))
    with bf16_autocast():
        lw = decay(X)[1]["wkv_log_decay"]
    p = {n: t.detach().double() for n, t in decay.named_parameters()}
    ref = -torch.exp(p["base"] + torch.tanh(X.double() @ p["down"]) @ p["up"])
    err = float(((lw.double() - ref).abs() / ref.abs()).max())     # per element: log w is the decay's exponent
    assert lw.dtype == torch.float32
    assert err <= 1e-5, err


@pytest.mark.parametrize("decay_shift,chunk", [(-1.0, 16), (1.0, 16), (3.0, 32)])
def test_wkv_core_float32_under_bf16_autocast(mod, decay_shift, chunk):
    r, k, v, lw, u = random_inputs(1, 2, 64, 8, 8, seed=7, decay_shift=decay_shift)
    ref, ref_state = wkv_reference(r, k, v, lw.exp(), u)
    with bf16_autocast():
        o, S = mod.RWKV6WKV.wkv_chunked(*[t.float() for t in (r, k, v, lw, u)], chunk_size=chunk)
    assert o.dtype == torch.float32 and S.dtype == torch.float32
    assert rel_err(o, ref) <= 1e-5, rel_err(o, ref)
    assert rel_err(S, ref_state) <= 1e-5, rel_err(S, ref_state)


def test_wkv_unit_float32_under_bf16_autocast(mod):
    """Through the unit, fed what the time mixer feeds it under autocast: bf16 r, k, v and a float32 log w."""
    B, L, H, Kh, Vh = 2, 37, 4, 8, 16
    wkv = mod.RWKV6WKV(64, (1, 3), {})
    r, k, v, lw, _ = random_inputs(B, H, L, Kh, Vh, seed=9, decay_shift=1.0)
    flat = lambda t: t.transpose(1, 2).reshape(B, L, -1)                      # noqa: E731  (B, H, L, d) -> (B, L, H d)
    r, k, v = (flat(t).to(torch.bfloat16) for t in (r, k, v))
    lw = flat(lw).float()
    with bf16_autocast():
        o = wkv(torch.zeros(B, L, 64), wkv_r=r, wkv_k=k, wkv_v=v, wkv_log_decay=lw)[1]["wkv_o"]
    heads = lambda t: t.double().view(B, L, H, -1).transpose(1, 2)          # noqa: E731
    ref, _ = wkv_reference(heads(r), heads(k), heads(v), heads(lw).exp(), wkv.bonus.detach().double())
    assert o.dtype == torch.float32
    assert rel_err(o, ref.transpose(1, 2).reshape(B, L, -1)) <= 1e-5


def test_timemix_under_bf16_autocast_close_and_differentiable(mod):
    """Sanity of the whole mixer under autocast (its projections are bf16, so bf16-level error): the nested
    autocast-off regions keep forward and backward working, and the output stays near the float64 recurrence."""
    from test_rwkv6 import make_timemix, timemix_reference
    tm = make_timemix(mod, D=32, dtype=torch.float32)
    X = torch.randn(2, 40, 32, generator=torch.Generator().manual_seed(3)).requires_grad_()
    with bf16_autocast():
        Y, _ = tm(X)
    Y.float().square().mean().backward()
    assert torch.isfinite(X.grad).all() and all(torch.isfinite(p.grad).all() for p in tm.parameters())
    assert rel_err(Y.detach(), timemix_reference(tm, X)) <= 3e-2, rel_err(Y.detach(), timemix_reference(tm, X))
