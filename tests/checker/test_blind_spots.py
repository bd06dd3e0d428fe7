"""The checker's blind spots of issue 10, one class each, run in-process on the phase that must catch them:
small leaks under float32 round-off, dead gradients, overflow beyond the check lengths, and slow-but-correct
designs. Each class has several broken designs (caught, and -- where a test says so -- invisible to the float32
or init-only probe that came before) and valid look-alikes that must stay valid. Sandboxed end-to-end
verdicts of the same designs are in test_designs.py."""
import pytest
import torch

from genesys.checker import load_config
from genesys.checker.runtime.causality import check_causality
from genesys.checker.runtime.common import float64_context
from genesys.checker.runtime.efficiency import check_efficiency
from genesys.checker.runtime.forward import check_forward, check_long_context
from genesys.checker.runtime.gradient import check_gradient
from genesys.checker.runtime.training import check_training
from genesys.paths import SEEDS_DIR, seed_names

CFG = load_config()


def _errors(results):
    return [f for r in results for f in r.errors]


def _warnings(results):
    return [f for r in results for f in r.warnings]


# ---- 1. small leaks vs round-off ---------------------------------------------------------------------------
@pytest.mark.parametrize("design", ["leak_tiny_next_token", "leak_tiny_pool_branch", "leak_tiny_soft_mask",
                                    "leak_tiny_detached_lookahead"])
def test_leaks_below_the_float32_tolerance_are_caught_in_float64(phase, design):
    results, ctx = phase(check_causality, design)
    errors = _errors(results)
    assert errors and {f.category for f in errors} == {"causality"}, errors
    assert all("float64" in f.message and "real dependence" in f.message for f in errors), errors
    # the float32 probe alone saw a dependence below its tolerance: it would have passed the design
    assert 0 < ctx.metrics["causality_fp32"] < CFG["causality"]["grad_tol"]
    # and in float64 it kept its size (round-off would have fallen ~1e9-fold)
    assert ctx.metrics["causality_fp64"] > 0.1 * ctx.metrics["causality_fp32"] > 1e2 * CFG["causality"]["fp64_tol"]


@pytest.mark.parametrize("design", ["valid_fft_conv", "valid_cumsum_difference", "valid_fft_float32_cast"])
def test_round_off_look_alikes_stay_valid_because_round_off_vanishes_in_float64(phase, design):
    results, ctx = phase(check_causality, design)
    assert not _errors(results) and not _warnings(results), _errors(results) + _warnings(results)
    assert ctx.metrics["causality_precision"] == "float64"
    assert ctx.metrics["causality_fp32"] > 1e-9          # float32 round-off reaches across positions ...
    assert ctx.metrics["causality_fp64"] < 1e-12         # ... and falls by orders of magnitude in float64


def test_a_design_that_refuses_float64_falls_back_to_float32_with_a_warning(phase):
    results, ctx = phase(check_causality, "valid_float32_only")
    assert not _errors(results)
    (warning,) = _warnings(results)
    assert warning.check == "causality.precision" and "float32 only" in warning.message
    assert "runs in float32 only" in warning.message  # the design's own reason
    assert ctx.metrics["causality_precision"] == "float32"


def test_float64_mode_upcasts_requested_low_precision_and_records_real_lowering():
    x = torch.randn(3, 4, dtype=torch.float64)
    with float64_context() as mode:
        assert x.float().dtype == torch.float64
        assert torch.zeros(2, dtype=torch.float32).dtype == torch.float64
        assert torch.ones(2).dtype == torch.float64
        assert torch.fft.rfft(x.to(torch.float32)).dtype == torch.complex128
    assert mode.lowered == ""
    buffer = torch.zeros(3, 4, dtype=torch.float32)  # held outside the mode, like a module's non-buffer attribute
    with float64_context() as mode:
        buffer.copy_(x)
    assert "copy_" in mode.lowered
    assert torch.get_default_dtype() == torch.float32


# ---- 2. dead gradients -------------------------------------------------------------------------------------
DEAD = {"grad_dead_round_quant": ["root.weight"], "grad_dead_sign_binary": ["root.weight"],
        "grad_dead_relu_threshold": ["root.threshold", "root.up.weight"],
        "grad_dead_hard_router": ["root.router.weight", "root.experts.weight"],
        "grad_dead_clamped_temperature": ["root.temperature"]}


@pytest.mark.parametrize("design", sorted(DEAD))
def test_parameters_cut_off_by_a_non_differentiable_op_are_gradient_errors(phase, design):
    results, ctx = phase(check_gradient, design)
    (error,) = _errors(results)
    assert error.category == "gradient" and "exactly zero gradient" in error.message, error
    for name in DEAD[design]:
        assert f"blocks.0.{name}" in error.message and f"blocks.1.{name}" in error.message, error
    assert "mix" not in error.message.split(":", 1)[1]  # the parameters that do learn are not named


@pytest.mark.parametrize("design", ["valid_lora_zero_init", "valid_zero_gate_bias", "valid_ste_quant",
                                    "valid_top1_router"])
def test_zero_init_and_straight_through_look_alikes_stay_valid(phase, design):
    results, ctx = phase(check_gradient, design)
    assert not _errors(results) and not _warnings(results), _errors(results)
    if design in ("valid_lora_zero_init", "valid_zero_gate_bias"):
        assert ctx.metrics["zero_gradient_at_init"] == 4  # zero at init: the perturbed copies tell them apart


def test_training_warns_about_parameters_it_never_moves(phase):
    results, _ = phase(check_training, "valid_lora_zero_init")
    assert not _errors(results)
    (warning,) = _warnings(results)
    assert warning.category == "gradient" and "lora_a" in warning.message and "lora_b" in warning.message
    results, _ = phase(check_training, "valid_zero_gate_bias")  # the gate moves first, then the rest follows
    assert not _warnings(results), _warnings(results)


# ---- 3. overflow beyond the check lengths ------------------------------------------------------------------
@pytest.mark.parametrize("design", ["numerics_factorised_decay", "numerics_growing_weights",
                                    "numerics_cumprod_decay"])
def test_overflow_between_the_check_lengths_and_the_training_context_is_a_numerics_error(phase, design):
    results, ctx = phase(check_forward, design)
    assert not _errors(results)  # finite at every forward check length (up to 257)
    (error,) = _errors(check_long_context(ctx))
    assert error.category == "numerics" and error.check == "numerics.long" and "2048" in error.message


@pytest.mark.parametrize("design", ["valid_chunked_decay", "valid_ema_parallel", "valid_token_loop_state"])
def test_stable_look_alikes_pass_the_long_context_forward(phase, design):
    results, ctx = phase(check_long_context, design)
    assert not _errors(results) and not results[0].skipped


def test_long_context_forward_is_skipped_when_efficiency_already_failed(phase):
    _, ctx = phase(check_forward, "valid_chunked_decay")
    ctx.infeasible = "efficiency error (efficiency.growth)"
    (result,) = check_long_context(ctx)
    assert result.skipped and not result.errors


def test_long_context_length_is_a_config_key():
    assert CFG["numerics"]["long_length"] == 2048 and CFG["numerics"]["batch_size"] == 1
    assert load_config(["numerics.long_length=512"])["numerics"]["long_length"] == 512


# ---- 4. slow is not wrong ----------------------------------------------------------------------------------
def test_a_per_token_python_loop_is_a_warning_with_its_ratios_in_the_metrics(phase):
    results, ctx = phase(check_efficiency, "valid_token_loop_state")
    assert not _errors(results), _errors(results)
    (warning,) = _warnings(results)
    assert warning.check == "efficiency.time" and "gpt2" in warning.message
    m = ctx.metrics
    assert CFG["efficiency"]["time_warn"] < m["time_ratio"] < CFG["efficiency"]["time_error"]
    assert set(m["time_ratios"]) == set(CFG["efficiency"]["lengths"]) and m["time_ratio_projected"] > 0
    assert not ctx.infeasible


def test_infeasible_cost_stays_an_efficiency_error(phase):
    results, ctx = phase(check_efficiency, "efficiency_memory_hog")
    assert {f.check for f in _errors(results)} >= {"efficiency.memory"}
    assert ctx.infeasible  # and the long-context forward will not run it at 2048


def test_time_error_threshold_is_far_above_the_original_3x():
    assert CFG["efficiency"]["time_error"] >= 20 and CFG["efficiency"]["time_warn"] == 1.5


# ---- every seed passes the new checks, cheaply -------------------------------------------------------------
@pytest.mark.parametrize("seed", seed_names())
def test_seeds_pass_the_float64_probe_the_dead_gradient_probe_and_the_long_forward(phase, seed):
    results, ctx = phase(check_causality, SEEDS_DIR / seed)
    assert not _errors(results) and not _warnings(results), _errors(results) + _warnings(results)
    assert ctx.metrics["causality_precision"] == "float64" and ctx.metrics["causality_fp64"] < 1e-12
    assert not _errors(check_gradient(ctx))
    long = check_long_context(ctx)
    assert not _errors(long) and long[0].seconds < 10
