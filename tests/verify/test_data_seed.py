"""The training data order has its own seed (train.data_seed); the init std comes from the run or the rung."""
from __future__ import annotations

import torch
from omegaconf import OmegaConf
from verify_helpers import compose_cfg

from genesys.verify.loader import TrainWindows
from genesys.verify.run import data_seed


def test_default_data_order_is_fixed_across_init_seeds():
    seeds = {data_seed(compose_cfg([f"seed={s}"])) for s in (0, 1, 2)}
    assert seeds == {0}


def test_null_data_seed_follows_the_run_seed():
    cfg = compose_cfg(["seed=3", "train.data_seed=null"])
    assert data_seed(cfg) == 3
    assert data_seed(compose_cfg(["seed=3", "train.data_seed=7"])) == 7


def test_same_data_seed_same_windows_other_seed_other_order():
    tokens = torch.arange(20_000).numpy()
    a, b = TrainWindows(tokens, 64, 50, seed=0), TrainWindows(tokens, 64, 50, seed=0)
    c = TrainWindows(tokens, 64, 50, seed=1)
    assert all(torch.equal(a[i], b[i]) for i in range(50))
    assert not all(torch.equal(a[i], c[i]) for i in range(50))


def test_init_std_comes_from_the_run_then_the_scale():
    from genesys.scales import scale_from_cfg
    from genesys.verify.run import init_std_for
    cfg = compose_cfg(["scale=cpu_xs"])
    scale = scale_from_cfg(cfg.scale)
    assert init_std_for(cfg, scale) == scale.init_std
    assert init_std_for(compose_cfg(["scale=cpu_xs", "train.init_std=0.3"]), scale) == 0.3
    assert init_std_for(compose_cfg(["scale=14M"]), scale_from_cfg(compose_cfg(["scale=14M"]).scale)) is None


def test_warmup_comes_from_the_run_then_the_scale_then_two_percent():
    from genesys.scales import scale_from_cfg
    from genesys.verify.run import warmup_fraction_for
    scale = scale_from_cfg(compose_cfg(["scale=cpu_xs"]).scale)
    assert warmup_fraction_for(compose_cfg(["scale=cpu_xs"]), scale) == scale.warmup_fraction
    assert warmup_fraction_for(compose_cfg(["scale=cpu_xs", "train.warmup_fraction=0.2"]), scale) == 0.2
    paper = compose_cfg(["scale=14M"])
    assert warmup_fraction_for(paper, scale_from_cfg(paper.scale)) == 0.02
