"""eval.proxy.repeats: each task trained with several seeds and averaged; repeats never share a seed across
suite seeds, so a spread measured over `seed` is not shrunk by shared runs."""
import pytest

from genesys.evaluate.proxy import TrainSettings, run_proxy_suite
from genesys.evaluate.proxy.suite import average_repeats, repeat_seeds
from genesys.gau import load_design
from genesys.paths import SEEDS_DIR

TINY = TrainSettings(d_model=32, steps=6, batch_size=4, warmup=2, n_test=8)


def test_repeat_seeds_do_not_overlap_across_suite_seeds():
    seeds = [repeat_seeds(s, 3) for s in (0, 1, 2)]
    assert seeds[0][0] == 0 and repeat_seeds(5, 1) == [5]
    assert len({x for group in seeds for x in group}) == 9


def test_average_repeats_means_and_spread():
    rows = [{"accuracy": a, "final_loss": l, "seconds": 2.0, "random_baseline": 0.125, "metric": "accuracy"}
            for a, l in [(1.0, 0.1), (0.5, 0.9), (0.6, 0.5)]]
    row = average_repeats(rows)
    assert row["accuracy"] == pytest.approx(0.7) and row["final_loss"] == pytest.approx(0.5)
    assert row["seconds"] == 6.0 and row["repeats"] == 3 and row["accuracy_repeats"] == [1.0, 0.5, 0.6]
    assert row["accuracy_spread"] == pytest.approx(0.5) and row["random_baseline"] == 0.125


def test_suite_with_repeats_averages_the_single_seed_runs():
    tree = load_design(SEEDS_DIR / "gpt2")
    kw = dict(tasks=["memorization", "selective_copying"], steps={"memorization": 4, "selective_copying": 4},
              batch_sizes={}, workers=1)
    both = run_proxy_suite(tree, TINY, repeats=2, **kw)
    one = run_proxy_suite(tree, TINY, **kw)
    other = run_proxy_suite(tree, TrainSettings(**{**TINY.__dict__, "seed": 1000}), **kw)
    for task in kw["tasks"]:
        assert both[task]["accuracy_repeats"] == [one[task]["accuracy"], other[task]["accuracy"]]
        assert both[task]["accuracy"] == pytest.approx((one[task]["accuracy"] + other[task]["accuracy"]) / 2)
        assert "accuracy_repeats" not in one[task]
