"""The lm-eval adapter reports what the model computes: log-likelihoods equal minus the summed token CE."""
import torch
import torch.nn.functional as F
from hypothesis import given, settings, strategies as st
from lm_eval.api.instance import Instance

from genesys.evaluate.adapter import GenesysEvalLM, score_windows


def _inst(kind, args):
    return Instance(request_type=kind, doc={}, arguments=args, idx=0)


def direct_logprob(lm, ids, n_target):
    """-sum CE of the last n_target tokens of `ids`, from one forward pass of the model (no adapter)."""
    x = torch.tensor([ids])
    with torch.no_grad():
        logits = lm(x)[0, :-1]
    ce = F.cross_entropy(logits, x[0, 1:], reduction="none")
    return -ce[-n_target:].sum().item()


def test_loglikelihood_equals_direct_cross_entropy(gpt2_lm, tokenizer):
    adapter = GenesysEvalLM(model=gpt2_lm, tokenizer=tokenizer, max_length=256, batch_size=3)
    pairs = [("def area(width, height):\n    return", " width * height"),
             ("import os\nimport", " sys"),
             ("for i in range(10):\n    ", "print(i)")]  # trailing spaces move onto the continuation
    got = adapter.loglikelihood([_inst("loglikelihood", p) for p in pairs])
    for (ctx, cont), (ll, _) in zip(pairs, got):
        n_spaces = len(ctx) - len(ctx.rstrip())
        ctx, cont = ctx[:len(ctx) - n_spaces], ctx[len(ctx) - n_spaces:] + cont
        whole = tokenizer.encode(ctx + cont)
        n_cont = len(whole) - len(tokenizer.encode(ctx))
        assert abs(ll - direct_logprob(gpt2_lm, whole, n_cont)) < 1e-4


def test_leading_space_split_does_not_matter(gpt2_lm, tokenizer):
    """'ctx ' + 'x' and 'ctx' + ' x' are the same question and get the same answer."""
    adapter = GenesysEvalLM(model=gpt2_lm, tokenizer=tokenizer)
    a, b = adapter.loglikelihood([_inst("loglikelihood", ("x = 1\ny =", " x + 1")),
                                  _inst("loglikelihood", ("x = 1\ny = ", "x + 1"))])
    assert abs(a[0] - b[0]) < 1e-5


def test_rolling_equals_direct_and_windows_long_inputs(gpt2_lm, tokenizer, corpus):
    text = corpus[1][0][:1500]
    ids = tokenizer.encode(text)
    assert len(ids) > 200
    full = GenesysEvalLM(model=gpt2_lm, tokenizer=tokenizer, max_length=len(ids) + 1)
    (ll,) = full.loglikelihood_rolling([_inst("loglikelihood_rolling", (text,))])
    assert abs(ll - direct_logprob(gpt2_lm, [tokenizer.eos_token_id] + ids, len(ids))) < 1e-3
    # a short context: disjoint windows, each scored from its own forward pass
    short = GenesysEvalLM(model=gpt2_lm, tokenizer=tokenizer, max_length=64, batch_size=4)
    (ll_short,) = short.loglikelihood_rolling([_inst("loglikelihood_rolling", (text,))])
    tokens, expected = [tokenizer.eos_token_id] + ids, 0.0
    for start in range(1, len(tokens), 64):
        end = min(len(tokens), start + 64)
        window = tokens[max(0, end - 65):end]
        expected += direct_logprob(gpt2_lm, window, end - start)
    assert abs(ll_short - expected) < 1e-3


def test_batching_does_not_change_scores(gpt2_lm, tokenizer, corpus):
    reqs = [_inst("loglikelihood", (doc[:200], doc[200:260])) for doc in corpus[1][:6]]
    one = GenesysEvalLM(model=gpt2_lm, tokenizer=tokenizer, batch_size=1).loglikelihood(reqs)
    many = GenesysEvalLM(model=gpt2_lm, tokenizer=tokenizer, batch_size=6).loglikelihood(reqs)
    for (a, ga), (b, gb) in zip(one, many):
        assert abs(a - b) < 1e-4 and ga == gb


def test_long_continuation_beyond_context(gpt2_lm, tokenizer, corpus):
    """A continuation longer than the context is scored in windows, not truncated."""
    ctx, cont = corpus[1][1][:100], corpus[1][1][100:1100]
    adapter = GenesysEvalLM(model=gpt2_lm, tokenizer=tokenizer, max_length=32)
    (ll, _), = adapter.loglikelihood([_inst("loglikelihood", (ctx, cont))])
    n_cont = len(tokenizer.encode(ctx + cont)) - len(tokenizer.encode(ctx))
    assert n_cont > 32
    # a per-token log-prob around -log(vocab) for a random model: all n_cont tokens were scored
    assert abs(ll / n_cont + torch.log(torch.tensor(float(len(tokenizer)))).item()) < 1.0


def test_generate_until_is_greedy_and_stops(gpt2_lm, tokenizer):
    adapter = GenesysEvalLM(model=gpt2_lm, tokenizer=tokenizer, batch_size=2)
    ctx = "def main():\n    "
    (free,) = adapter.generate_until([_inst("generate_until", (ctx, {"until": [], "max_gen_toks": 8}))])
    ids = tokenizer.encode(ctx)
    for _ in range(8):  # the greedy continuation computed directly
        with torch.no_grad():
            ids.append(int(gpt2_lm(torch.tensor([ids]))[0, -1].argmax()))
    assert free == tokenizer.decode(ids[len(tokenizer.encode(ctx)):])
    stop = free[len(free) // 2:][:2] or free
    outs = adapter.generate_until([_inst("generate_until", (ctx, {"until": [stop], "max_gen_toks": 8})),
                                   _inst("generate_until", ("x", {"until": ["\n"], "max_gen_toks": 3}))])
    assert outs[0] == free.split(stop)[0]
    assert "\n" not in outs[1]


@settings(max_examples=200, deadline=None)
@given(n=st.integers(2, 60), data=st.data())
def test_score_windows_cover_targets_once_with_true_context(n, data):
    n_target = data.draw(st.integers(0, n - 1))
    max_length = data.draw(st.integers(1, 20))
    tokens = list(range(100, 100 + n))
    windows = score_windows(tokens, n_target, max_length)
    assert sum((t for _, t in windows), []) == tokens[n - n_target:]
    end = n - n_target
    for inputs, targets in windows:
        end += len(targets)
        assert 0 < len(targets) <= len(inputs) <= max_length
        assert inputs == tokens[end - 1 - len(inputs):end - 1]  # position j of inputs predicts token j+1
