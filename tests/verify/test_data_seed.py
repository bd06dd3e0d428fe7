"""The training data order has its own seed (train.data_seed), so designs and init seeds share one order."""
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
