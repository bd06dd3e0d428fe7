"""eval.proxy.train.data_seed: the proxy rung's batches and test set have their own seed, so init seeds (and
designs) can be compared on the same data; null keeps the old rule (the data follows `seed`)."""
import dataclasses

from genesys.evaluate.proxy import TrainSettings, make_task, train_on_task
from genesys.gau import load_design
from genesys.paths import SEEDS_DIR

TINY = TrainSettings(d_model=16, n_block=1, steps=3, batch_size=2, warmup=1, n_test=4)


class RecordingTask:
    """A task that remembers the seed of every batch it made, and passes the call on."""

    def __init__(self, task):
        self.task, self.seeds = task, []

    def __getattr__(self, name):
        return getattr(self.task, name)

    def make(self, n, seed):
        self.seeds.append((n, seed))
        return self.task.make(n, seed=seed)


def _run(**changes):
    task = RecordingTask(make_task("memorization", n_keys=8))
    settings = dataclasses.replace(TINY, **changes)
    result = train_on_task(load_design(SEEDS_DIR / "gpt2"), task, settings)
    return task.seeds, result


def test_fixed_data_seed_gives_every_init_seed_the_same_batches_and_test_set():
    data_0, _ = _run(seed=0, data_seed=0)
    data_1, _ = _run(seed=1, data_seed=0)
    assert data_0 == data_1 and len(data_0) == TINY.steps + 1
    assert data_0[-1] == (TINY.n_test, 0)                 # the test set is the data seed's


def test_null_data_seed_follows_the_init_seed():
    follows, a = _run(seed=1, data_seed=None)
    explicit, b = _run(seed=1, data_seed=1)
    other, _ = _run(seed=0, data_seed=None)
    assert follows == explicit and a["accuracy"] == b["accuracy"] and a["final_loss"] == b["final_loss"]
    assert set(follows).isdisjoint(other)


def test_init_seed_still_changes_the_model_under_a_fixed_data_seed():
    _, a = _run(seed=0, data_seed=0)
    _, b = _run(seed=1, data_seed=0)
    assert a["final_loss"] != b["final_loss"]
