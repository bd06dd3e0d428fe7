"""The proxy suite separates designs: attention (gpt2) recalls, a block without token mixing cannot, and
retnet and mamba2 recall worse than attention at the same budget, as Zoology (Arora et al., 2023) and MAD
(Poli et al., 2024) report for retention and state-space models."""
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


RECALL = ["in_context_recall", "mqar"]
# the budget the recall gaps below were measured at (the suite's MQAR default later grew to 600 steps, where
# mamba2 reaches 0.89: the gap narrows with training, the order stays)
RECALL_STEPS = {"in_context_recall": 300, "mqar": 400}


# four small trainings in two worker processes: about 65 s of CPU time, 35 s wall on 2 cores
def test_gpt2_beats_mlp_only_on_recall(one_thread):
    tasks = RECALL
    gpt2 = run_proxy_suite(load_design(SEEDS_DIR / "gpt2"), TrainSettings(), tasks=tasks, workers=2)
    mlp = run_proxy_suite(load_design(DESIGNS / "mlp_only"), TrainSettings(), tasks=tasks, workers=2)
    for task in tasks:
        chance = mlp[task]["random_baseline"]
        assert abs(mlp[task]["accuracy"] - chance) < 0.06, (task, mlp[task])  # no mixing: chance
        assert gpt2[task]["accuracy"] > mlp[task]["accuracy"] + 0.1, (task, gpt2[task], mlp[task])


@pytest.mark.slow
def test_attention_is_best_at_recall(one_thread):
    """At 300 / 400 steps gpt2 solves both recall tasks; retnet and mamba2 stay below on each, far below on
    average (measured in-context recall / MQAR: gpt2 1.00 / 0.96, retnet 0.76 / 0.33, mamba2 0.83 / 0.53;
    BENCHMARKS.md, Evaluation). About 75 s wall in 2 workers."""
    scores = {name: run_proxy_suite(load_design(SEEDS_DIR / name), TrainSettings(), tasks=RECALL, workers=2,
                                    steps=RECALL_STEPS)
              for name in ("gpt2", "retnet", "mamba2")}
    acc = {name: [table[task]["accuracy"] for task in RECALL] for name, table in scores.items()}
    assert min(acc["gpt2"]) >= 0.9, acc
    for other in ("retnet", "mamba2"):
        margins = [a - b for a, b in zip(acc["gpt2"], acc[other])]
        assert min(margins) > 0.1 and sum(margins) / len(margins) > 0.2, (other, acc)
