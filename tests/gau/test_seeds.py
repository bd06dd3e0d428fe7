"""Every seed design: loads, runs forward/backward, passes its unit tests, is causal, stays in the param budget."""
import pytest
import torch

from genesys.gau import GenesysLM, build_block, load_design, run_gau_tests
from genesys.paths import SEEDS_DIR
from genesys.scales import load_ladder
from tests.gau.seeds import SEED_NAMES

D = 64
# lengths crossing typical chunk sizes (16, 32, 64, 128, 256), odd and not multiples of any chunk
CAUSAL_LENGTHS = (37, 273)


def test_all_five_seeds_present():
    assert {"gpt2", "mamba2", "retnet", "rwkv6", "ttt"} <= set(SEED_NAMES)


@pytest.fixture(scope="module", params=SEED_NAMES)
def seed(request):
    torch.manual_seed(0)
    tree = load_design(SEEDS_DIR / request.param)
    block = build_block(tree, embed_dim=D, block_loc=(0, 2), dtype=torch.float64)
    return request.param, tree, block


def test_forward_backward_finite(seed):
    _, tree, _ = seed
    lm = GenesysLM.from_design(tree, d_model=D, n_block=2, vocab_size=97)
    ids = torch.randint(0, 97, (2, 70))
    _, loss = lm(ids, labels=ids)
    loss.backward()
    assert torch.isfinite(loss)
    for name, p in lm.named_parameters():
        assert p.grad is not None, f"{name} gets no gradient"
        assert torch.isfinite(p.grad).all(), name


def test_unit_tests_pass(seed):
    _, tree, _ = seed
    failures = {k: v for k, v in run_gau_tests(tree).items() if v is not None}
    assert not failures, failures


@pytest.mark.parametrize("length", CAUSAL_LENGTHS)
def test_causal_by_gradient_probe(seed, length):
    """dY[:, t] / dX[:, t+1:] is exactly zero, for probes at the start, a middle position and just before the end."""
    _, _, block = seed
    X = torch.randn(2, length, D, dtype=torch.float64, requires_grad=True)
    Y, _ = block(X)
    for t in (0, length // 2, length - 2):
        (grad,) = torch.autograd.grad(Y[:, t].sum(), X, retain_graph=True)
        assert torch.count_nonzero(grad[:, t + 1:]) == 0, f"position {t} sees the future"
        assert torch.count_nonzero(grad[:, t]) > 0, f"position {t} ignores its own input"


@pytest.mark.parametrize("length", CAUSAL_LENGTHS)
def test_causal_by_perturbing_the_future(seed, length):
    _, _, block = seed
    X = torch.randn(2, length, D, dtype=torch.float64)
    t = length // 3
    X2 = X.clone()
    X2[:, t + 1:] = torch.randn_like(X2[:, t + 1:]) * 10
    with torch.no_grad():
        Y, _ = block(X)
        Y2, _ = block(X2)
    assert torch.allclose(Y[:, : t + 1], Y2[:, : t + 1], rtol=0, atol=1e-10)
    assert not torch.allclose(Y[:, t + 1:], Y2[:, t + 1:])


def test_length_one_and_batch_independence(seed):
    _, _, block = seed
    X = torch.randn(3, 1, D, dtype=torch.float64)
    with torch.no_grad():
        Y, _ = block(X)
        assert Y.shape == X.shape and torch.isfinite(Y).all()
        X = torch.randn(3, 45, D, dtype=torch.float64)
        Y, _ = block(X)
        Y1, _ = block(X[1:2])
    assert torch.allclose(Y[1:2], Y1, rtol=0, atol=1e-10)


PAPER_LADDER = load_ladder("paper")


@pytest.mark.parametrize("scale", PAPER_LADDER, ids=[s.name for s in PAPER_LADDER])
def test_parameter_budget_at_paper_scales(seed, scale):
    _, tree, _ = seed
    lm = GenesysLM.from_design(tree, d_model=scale.d_model, n_block=scale.n_block, vocab_size=32000, device="meta")
    ratio = lm.num_params() / scale.ref_params
    assert 0.8 <= ratio <= 1.2, f"{lm.num_params() / 1e6:.2f}M is {ratio - 1:+.1%} off {scale.name}"
