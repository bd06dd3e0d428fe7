"""The proxy suite separates designs: attention (gpt2) recalls, a block without token mixing cannot."""
from pathlib import Path

import pytest
import torch

from genesys.evaluate.proxy import TrainSettings, run_proxy_suite
from genesys.gau import load_design
from genesys.paths import SEEDS_DIR

DESIGNS = Path(__file__).parent / "designs"


@pytest.fixture
def one_thread():
    """Small models train fastest on one thread, and on a shared CPU two threads spin against each other."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# four small trainings: about 40 s of CPU time (one minute on a shared 2-core machine)
def test_gpt2_beats_mlp_only_on_recall(one_thread):
    tasks = ["in_context_recall", "mqar"]
    gpt2 = run_proxy_suite(load_design(SEEDS_DIR / "gpt2"), TrainSettings(), tasks=tasks)
    mlp = run_proxy_suite(load_design(DESIGNS / "mlp_only"), TrainSettings(), tasks=tasks)
    for task in tasks:
        chance = mlp[task]["random_baseline"]
        assert abs(mlp[task]["accuracy"] - chance) < 0.06, (task, mlp[task])  # no mixing: chance
        assert gpt2[task]["accuracy"] > mlp[task]["accuracy"] + 0.1, (task, gpt2[task], mlp[task])
