"""The proxy suite's parallel workers: same scores as in-process, a clear error when a worker dies."""
from pathlib import Path

import pytest

from genesys.evaluate.proxy import TrainSettings, run_proxy_suite
from genesys.evaluate.proxy.suite import ProxyWorkerError, resolve_workers
from genesys.gau import load_design
from genesys.paths import SEEDS_DIR

DESIGNS = Path(__file__).parent / "designs"
TINY = TrainSettings(d_model=32, steps=6, batch_size=4, warmup=2, n_test=8)
TASKS = ["mqar", "memorization", "selective_copying"]


def test_workers_give_the_same_scores_as_one_process():
    tree = load_design(SEEDS_DIR / "gpt2")
    steps = {"mqar": 6, "memorization": 3, "selective_copying": 4}
    serial = run_proxy_suite(tree, TINY, tasks=TASKS, steps=steps, batch_sizes={}, workers=1)
    parallel = run_proxy_suite(tree, TINY, tasks=TASKS, steps=steps, batch_sizes={}, workers=2)
    assert list(parallel) == TASKS
    for task in TASKS:
        assert parallel[task]["accuracy"] == serial[task]["accuracy"], task
        assert parallel[task]["final_loss"] == pytest.approx(serial[task]["final_loss"], rel=1e-6), task
        assert parallel[task]["steps"] == steps[task]


def test_a_dead_worker_is_a_clear_error():
    with pytest.raises(ProxyWorkerError, match="worker died while training"):
        run_proxy_suite(load_design(DESIGNS / "dies_in_worker"), TINY, tasks=TASKS, steps={}, workers=2)


def test_resolve_workers():
    assert resolve_workers(4, 2, None) == 2          # never more processes than tasks
    assert resolve_workers(3, 7, "cuda") == 1        # one accelerator: one process
    assert 1 <= resolve_workers("auto", 7, "cpu") <= 7
    assert resolve_workers(0, 7, None) == 1


def test_proxy_device_setting():
    import torch

    from genesys.evaluate.runner import proxy_device
    assert proxy_device("cpu") == "cpu" and proxy_device("cuda") == "cuda"
    assert proxy_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
