"""The ttt seed under bf16 autocast (CPU): the projections may run in bf16, the inner learning problem may not.

TTTLinear runs its learning rates, RoPE, inner LayerNorm and the sequential dual-form scan in float32 with autocast
off. Measured (D = 32, mini-batch 16, L = 75 and 1024): given the same bf16 q/k/v projections, the inner output
(before the post LayerNorm) is within ~1e-7 of float64 (float32 round-off); with the scan under autocast it was
~2e-3 (bf16 matmuls, compounding over the mini-batches). The whole unit's output (bf16 projections, bf16
out_proj) is ~3e-3 to 5e-3 off its float64 primal reference, which is the bf16 rounding of the projections."""
import torch
import torch.nn.functional as F

from test_ttt import make_ttt, rel_err, ttt_primal_reference

SEED = "ttt"


def pair(mod, seed):
    """A float64 unit and a float32 copy with the same (perturbed) weights."""
    u64 = make_ttt(mod, D=32, mini_batch=16, seed=seed)
    u32 = make_ttt(mod, D=32, mini_batch=16, seed=seed, dtype=torch.float32)
    u32.load_state_dict({k: v.float() for k, v in u64.state_dict().items()})
    return u64, u32


def test_inner_learning_is_float32_under_autocast(mod):
    """Bound 1e-5: 100x the float32 round-off measured, 200x below the error of a bf16 scan."""
    u64, u32 = pair(mod, seed=11)
    X = torch.randn(2, 150, 32, dtype=torch.float64)
    core = {}
    for name, u in (("64", u64), ("32", u32)):
        u.post_norm.register_forward_pre_hook(lambda m, a, name=name: core.__setitem__(name, a[0]))
    # the float64 unit gets exactly the projections that bf16 autocast computes (bf16 operands, bf16 result)
    u64.qkv_proj.register_forward_hook(
        lambda m, a, o: F.linear(a[0].to(torch.bfloat16), m.weight.to(torch.bfloat16)).double())
    with torch.no_grad():
        u64(X)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            u32(X.float())
    assert core["32"].dtype == torch.float32
    err = rel_err(core["32"].double(), core["64"])
    assert err <= 1e-5, err


def test_output_under_autocast_against_float64_reference(mod):
    """Bound 1e-2 (relative, in norm): ~2.5x the measured 4e-3 (seeds 0-2 and 12: 3e-3 to 5e-3); bf16 keeps 8
    bits, ~2e-3 per rounding, of X and the weights in the projections and of the output. A bf16 scan adds only
    ~1e-3 here, so this bounds the end-to-end error; the test above is the one that sees the scan's precision."""
    u64, u32 = pair(mod, seed=12)
    X = torch.randn(2, 75, 32, dtype=torch.float64)
    ref = ttt_primal_reference(u64, X, 16)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        Y, _ = u32(X.float())
    err = rel_err(Y.double(), ref)
    assert err <= 1e-2, err
