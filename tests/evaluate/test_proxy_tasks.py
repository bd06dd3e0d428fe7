"""Proxy generators: deterministic, and every label is what an independent reading of the sequence says."""
import pytest
import torch

from genesys.evaluate.proxy.tasks import DIFFICULTY, IGNORE, TASKS, make_task


@pytest.mark.parametrize("name", sorted(TASKS))
@pytest.mark.parametrize("difficulty", sorted(DIFFICULTY))
def test_seeded_deterministic_in_vocab(name, difficulty):
    task = make_task(name, difficulty)
    x1, y1 = task.make(8, seed=3)
    x2, y2 = task.make(8, seed=3)
    x3, _ = task.make(8, seed=4)
    assert torch.equal(x1, x2) and torch.equal(y1, y2) and not torch.equal(x1, x3)
    assert x1.min() >= 0 and x1.max() < task.vocab_size
    assert (y1 != IGNORE).any() and y1[y1 != IGNORE].max() < task.vocab_size
    assert 0 < task.random_baseline < 1


@pytest.mark.parametrize("name", ["in_context_recall", "noisy_recall"])
def test_recall_labels(name):
    task = make_task(name)
    x, y = task.make(32, seed=0)
    for seq, tgt in zip(x.tolist(), y.tolist()):
        value_of, t = {}, 0
        while t < len(seq):
            tok = seq[t]
            if tok >= task.n_keys + task.n_values:  # noise
                assert tgt[t] == IGNORE
                t += 1
                continue
            assert tok < task.n_keys, "pairs start with a key"
            expected = value_of.get(tok, IGNORE)
            assert tgt[t] == expected
            if t + 1 < len(seq):
                value_of.setdefault(tok, seq[t + 1])
                assert seq[t + 1] == value_of[tok], "a key keeps its value within a sequence"
                assert tgt[t + 1] == IGNORE
            t += 2
    if name == "noisy_recall":
        assert (x >= task.n_keys + task.n_values).any()


def test_fuzzy_recall_labels():
    task = make_task("fuzzy_recall")
    x, y = task.make(32, seed=0)
    for seq, tgt in zip(x.tolist(), y.tolist()):
        for t, label in enumerate(tgt):
            if label != IGNORE:  # teacher forcing: the label is the next token (if not cut off), a value token
                assert label >= task.n_tokens and (t + 1 == len(seq) or label == seq[t + 1])
        # read the sequence as (key span, value span) pairs: a repeated key span must repeat its value span
        spans, cur, kind = [], [], None
        for tok in seq:
            k = tok >= task.n_tokens
            if kind is not None and k != kind:
                spans.append(tuple(cur))
                cur = []
            cur.append(tok)
            kind = k
        pairs = list(zip(spans[0::2], spans[1::2]))
        first = {}
        for key, value in pairs:
            assert first.setdefault(key, value) == value


def test_selective_copying_labels():
    task = make_task("selective_copying")
    x, y = task.make(32, seed=0)
    copy_at = task.seq_len - task.n_copy - 1
    for seq, tgt in zip(x.tolist(), y.tolist()):
        data = [t for t in seq[:copy_at] if t < task.n_data]
        assert seq[copy_at] == task.n_data + 1
        assert tgt[copy_at:] == data and set(tgt[:copy_at]) == {IGNORE}


def test_compression_and_memorization_labels():
    comp = make_task("compression")
    x, y = comp.make(8, seed=0)
    assert torch.equal(y, x[:, :-1]) and (x[:, -1] == comp.n_tokens).all()
    mem = make_task("memorization")
    table = {}
    for seed in range(3):  # one fixed table across seeds (train and test share it)
        x, y = mem.make(16, seed=seed)
        for k, v, label in zip(x[:, 0::2].flatten().tolist(), x[:, 1::2].flatten().tolist(),
                               y[:, 0::2].flatten().tolist()):
            assert v == label and table.setdefault(k, v) == v
    assert (y[:, 1::2] == IGNORE).all()


def test_mqar_labels():
    task = make_task("mqar")
    x, y = task.make(32, seed=0)
    for seq, tgt in zip(x.tolist(), y.tolist()):
        prefix = seq[:2 * task.n_pairs]
        table = dict(zip(prefix[0::2], prefix[1::2]))
        assert len(table) == task.n_pairs, "keys are distinct"
        assert set(tgt[:2 * task.n_pairs]) == {IGNORE}
        for t in range(2 * task.n_pairs, len(seq), 2):
            assert tgt[t] == table[seq[t]] == seq[t + 1]


def test_suite_steps_per_task():
    """Each task trains for its own number of steps (scaled by step_scale); an explicit `steps` override wins."""
    from genesys.evaluate.proxy.suite import DEFAULT_STEPS, plan_jobs
    jobs = {name: steps for name, _, steps, _ in plan_jobs(["memorization", "mqar", "compression"],
                                                           overrides={"mqar": {"steps": 3, "n_pairs": 2}},
                                                           step_scale=0.5)}
    assert jobs == {"memorization": round(0.5 * DEFAULT_STEPS["memorization"]), "mqar": 3,
                    "compression": round(0.5 * DEFAULT_STEPS["compression"])}
    assert plan_jobs(["mqar"], steps={"mqar": 7}, batch_sizes={})[0] == ("mqar", {}, 7, 16)
    assert plan_jobs(["mqar"], steps={}, default_steps=9, batch_sizes={"mqar": 8})[0] == ("mqar", {}, 9, 8)
    assert plan_jobs(["mqar"], overrides={"mqar": {"batch_size": 4, "n_pairs": 2}})[0][1:] == (
        {"n_pairs": 2}, DEFAULT_STEPS["mqar"], 4)
    assert DEFAULT_STEPS["memorization"] < DEFAULT_STEPS["mqar"]


def test_suite_runs_the_planned_steps():
    from genesys.evaluate.proxy import TrainSettings, run_proxy_suite
    from genesys.gau import load_design
    from genesys.paths import SEEDS_DIR
    settings = TrainSettings(d_model=16, steps=8, batch_size=2, warmup=1, n_test=4)
    table = run_proxy_suite(load_design(SEEDS_DIR / "gpt2"), settings, tasks=["memorization", "mqar"],
                            steps={"memorization": 2}, batch_sizes={"memorization": 3},
                            overrides={"mqar": {"steps": 3, "n_pairs": 2, "n_queries": 2}})
    assert (table["memorization"]["steps"], table["memorization"]["batch_size"]) == (2, 3)
    assert (table["mqar"]["steps"], table["mqar"]["batch_size"]) == (3, 2)
