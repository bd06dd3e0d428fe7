"""The LLM client through litellm's real HTTP path against the scripted server: retries, the hard timeout, repair
of malformed answers, the response cache, the ledger and cost caps, the provider check, and secrets."""
from __future__ import annotations

import random
import time
from collections import Counter

import pytest
from pydantic import BaseModel

from genesys.agents.llm import routing
from genesys.agents.llm.client import LLMClient, check_provider
from genesys.agents.llm.config import AgentsConfig, ModelChoice
from genesys.agents.llm.types import CostCapReached, LLMError, LLMTimeout, LLMUnavailable, MalformedAnswer
from genesys.evolution.design_context import StoreDesignContext
from genesys.evolution.store import Store
from tests.agents.server import empty, garbage, http, stall

PRICES = {"input_cost_per_token": 1e-3, "output_cost_per_token": 2e-3}


class Rating(BaseModel):
    rating: int
    text: str


def make_cfg(server, **limits) -> AgentsConfig:
    return AgentsConfig.from_dict({"model": "openai/scripted", "api_base": server.url, **PRICES, "timeout_s": 10,
                                   "retries": 3, "backoff_s": 0.01, "backoff_max_s": 0.05, **limits})


@pytest.fixture
def context(tmp_path):
    store = Store.open(tmp_path / "run")
    yield StoreDesignContext(store, store.start_session("designer", "d", {}), ticket=0)
    store.close()


def test_answers_through_litellm_and_the_ledger_adds_up(scripted_server, context):
    scripted_server.responder = lambda body: '```json\n{"rating": 4, "text": "good"}\n```'
    client = LLMClient(make_cfg(scripted_server), context)
    reply = client.ask("reviewer", [{"role": "user", "content": "rate this"}], Rating, stage="review")
    assert reply.parsed == Rating(rating=4, text="good") and reply.calls == 1 and not reply.cached
    client.ask("observer", [{"role": "user", "content": "and this"}], Rating)
    rows = context.store.llm_calls()
    assert [r.role for r in rows] == ["reviewer", "observer"] and rows[0].stage == "review"
    expected = sum(r.prompt_tokens * 1e-3 + r.completion_tokens * 2e-3 for r in rows)
    assert client.spent_usd == pytest.approx(expected) == pytest.approx(context.store.llm_spent())
    assert len(scripted_server.chat_requests()) == 2


def test_rate_limits_and_server_errors_are_retried(scripted_server, context):
    scripted_server.fail(http(429, 2) + http(500) + http(503))
    reply = LLMClient(make_cfg(scripted_server, retries=5), context).ask("coder", [{"role": "user", "content": "x"}])
    assert reply.text == "echo: x"
    assert len(scripted_server.chat_requests()) == 5
    rows = context.store.llm_calls()
    assert [r.ok for r in rows] == [False] * 4 + [True] and "RateLimit" in rows[0].error


def test_retries_run_out_and_client_errors_fail_at_once(scripted_server, context):
    scripted_server.fail(http(500, 10))
    with pytest.raises(LLMError):
        LLMClient(make_cfg(scripted_server, retries=2), context).ask("coder", [{"role": "user", "content": "x"}])
    assert len(scripted_server.chat_requests()) == 3
    scripted_server.faults.clear()
    scripted_server.fail(http(400))
    with pytest.raises(LLMError):
        LLMClient(make_cfg(scripted_server), context).ask("coder", [{"role": "user", "content": "y"}])
    assert len(scripted_server.chat_requests()) == 4


def test_a_stalled_server_hits_the_hard_timeout(scripted_server, context):
    scripted_server.fail(stall(30))
    client = LLMClient(make_cfg(scripted_server, timeout_s=1.5), context)
    start = time.monotonic()
    with pytest.raises(LLMTimeout):
        client.ask("coder", [{"role": "user", "content": "x"}])
    assert time.monotonic() - start < 4
    assert context.store.llm_calls()[-1].error == "timeout"


def test_malformed_answers_get_a_repair_prompt(scripted_server, context):
    answers = iter(["no json here", '{"rating": "high"}', '{"rating": 3, "text": "ok"}'])
    scripted_server.responder = lambda body: next(answers)
    reply = LLMClient(make_cfg(scripted_server, max_repairs=2), context).ask(
        "reviewer", [{"role": "user", "content": "rate"}], Rating)
    assert reply.parsed.rating == 3 and reply.calls == 3
    last = scripted_server.chat_requests()[-1]["body"]["messages"]
    assert "could not be read" in last[-1]["content"] and "rating" in last[-1]["content"]
    assert [e.payload["kind"] for e in context.store.events(kind="trace")] == ["malformed", "malformed"]


def test_malformed_twice_and_empty_answers_fail_clearly(scripted_server, context):
    scripted_server.responder = lambda body: "still not json"
    with pytest.raises(MalformedAnswer, match="after 2 answer"):
        LLMClient(make_cfg(scripted_server, max_repairs=1), context).ask("reviewer", [{"role": "user", "content": "r"}],
                                                                         Rating)
    scripted_server.fail(empty())
    with pytest.raises(MalformedAnswer, match="empty"):
        LLMClient(make_cfg(scripted_server), context).ask("coder", [{"role": "user", "content": "z"}])
    scripted_server.fail(garbage())            # a body that is not JSON: litellm raises, we retry
    scripted_server.responder = lambda body: '{"rating": 1, "text": "t"}'
    reply = LLMClient(make_cfg(scripted_server, retries=1), context).ask("reviewer", [{"role": "user", "content": "g"}],
                                                                         Rating)
    assert reply.parsed.rating == 1 and context.store.llm_calls()[-2].ok is False


def test_the_cache_replays_a_session_with_zero_calls(scripted_server, tmp_path):
    scripted_server.responder = lambda body: '{"rating": 5, "text": "' + body["messages"][-1]["content"] + '"}'
    store = Store.open(tmp_path / "run")
    prompts = [[{"role": "user", "content": f"p{i}"}] for i in range(3)]
    first = LLMClient(make_cfg(scripted_server), StoreDesignContext(store, None, 0), seed=1)
    answers = [first.ask("reviewer", p, Rating).parsed for p in prompts]
    n = len(scripted_server.chat_requests())
    replay = LLMClient(make_cfg(scripted_server), StoreDesignContext(store, None, 0), seed=1)
    again = [replay.ask("reviewer", p, Rating) for p in prompts]
    assert len(scripted_server.chat_requests()) == n == 3
    assert [r.parsed for r in again] == answers and all(r.cached and r.calls == 0 for r in again)
    assert replay.spent_usd == 0 and store.llm_spent() == pytest.approx(first.spent_usd)
    store.close()


def test_cost_caps_stop_calls(scripted_server, context):
    client = LLMClient(make_cfg(scripted_server, session_cap_usd=0.001), context)
    client.ask("coder", [{"role": "user", "content": "a long enough prompt to cost something"}])
    with pytest.raises(CostCapReached, match="session"):
        client.ask("coder", [{"role": "user", "content": "another"}])
    other = LLMClient(make_cfg(scripted_server, run_cap_usd=0.001, session_cap_usd=None), context)
    with pytest.raises(CostCapReached, match="run"):
        other.ask("coder", [{"role": "user", "content": "third"}])
    assert len(scripted_server.chat_requests()) == 1


def test_provider_check_names_the_missing_key(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(LLMUnavailable, match="OPENAI_API_KEY.*api_base"):
        check_provider(AgentsConfig.from_dict({"model": "openai/gpt-4o-mini"}))
    monkeypatch.delenv("MY_KEY", raising=False)
    with pytest.raises(LLMUnavailable, match="MY_KEY"):
        check_provider(AgentsConfig.from_dict({"model": "anthropic/x", "api_key_env": "MY_KEY"}))
    check_provider(AgentsConfig.from_dict({"model": "openai/served", "api_base": "http://localhost:1/v1"}))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-key-123456")
    check_provider(AgentsConfig.from_dict({"model": "openai/gpt-4o-mini"}))


def test_a_secret_in_the_environment_never_reaches_prompts_or_the_store(scripted_server, tmp_path, monkeypatch):
    secret = "sk-test-SECRET-7f3a9c21"
    monkeypatch.setenv("SCRIPTED_API_KEY", secret)
    scripted_server.responder = lambda body: f"I saw {body['messages'][-1]['content']} and {secret}"
    store = Store.open(tmp_path / "run")
    cfg = AgentsConfig.from_dict({"model": "openai/scripted", "api_base": scripted_server.url,
                                  "api_key_env": "SCRIPTED_API_KEY", **PRICES, "retries": 0})
    client = LLMClient(cfg, StoreDesignContext(store, None, 0))
    reply = client.ask("coder", [{"role": "user", "content": f"my key is {secret}"}])
    store.close()
    sent = scripted_server.chat_requests()[0]
    headers = {k.lower(): v for k, v in sent["headers"].items()}
    assert secret in headers.get("authorization", "")                      # the key did reach the provider ...
    assert secret not in str(sent["body"])                                 # ... but never inside a prompt
    assert secret not in str(reply.history)
    for path in (tmp_path / "run").rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


def test_weighted_and_bandit_routing():
    a, b = ModelChoice("a", weight=3), ModelChoice("b", weight=1)
    rng = random.Random(0)
    counts = Counter(routing.weighted_choice([a, b], rng).model for _ in range(4000))
    assert 0.72 < counts["a"] / 4000 < 0.78
    assert routing.bandit_choice([a, b], routing.bandit_rewards([("a", 1.0, 0.1)]), rng).model == "b"   # untried first
    rewards = routing.bandit_rewards([("a", 1.0, 0.1)] * 20 + [("b", 0.1, 0.1)] * 20)     # b: 10x the gain per dollar
    assert Counter(routing.bandit_choice([a, b], rewards, rng).model for _ in range(50))["b"] == 50


def test_model_outcomes_credit_each_model_its_designs_gain_over_the_best_parent():
    from genesys.evolution.design_context import model_outcomes
    designs = [{"name": "s1", "is_seed": True}, {"name": "s2", "is_seed": True},
               {"name": "m", "parents": ["s1", "s2"], "ticket": 0}, {"name": "x", "parents": [], "ticket": 1},
               {"name": "unscored", "parents": ["s1"], "ticket": 2}, {"name": "symbolic", "parents": ["s1"]}]
    calls = [{"ticket": 0, "model": "a", "cost_usd": 0.5}, {"ticket": 0, "model": "a", "cost_usd": 0.25},
             {"ticket": 0, "model": "b", "cost_usd": None}, {"ticket": 1, "model": "b", "cost_usd": 0.1},
             {"ticket": 2, "model": "a", "cost_usd": 1.0}]
    fitness = {"s1": 0.4, "s2": 0.6, "m": 0.7, "x": 0.3, "symbolic": 0.9}
    got = sorted((m, c, round(g, 6)) for m, c, g in model_outcomes(designs, calls, fitness))
    assert got == [("a", 0.75, 0.1), ("b", 0.0, 0.1), ("b", 0.1, -0.2)]   # x: scratch, against the seeds' mean 0.5


def test_bandit_routing_prefers_the_model_whose_designs_gained_more_per_dollar(scripted_server, tmp_path):
    """The run's store feeds the bandit: model b's earlier design gained fitness cheaply, a's lost it."""
    store = Store.open(tmp_path / "run")
    try:
        sid = store.start_session("designer", "d", {})
        seed = {"name": "s", "units": {}, "root": "r"}
        for name, parents, ticket in (("s", [], None), ("by-a", ["s"], 0), ("by-b", ["s"], 1)):
            store.add_design(name, tree=seed, code="", parents=parents, is_seed=ticket is None, mode="mutation",
                             struct_hash=name, meta=None if ticket is None else {"ticket": ticket})
        store.record_llm_call({"session_id": sid, "ticket": 0, "role": "coder", "model": "openai/a", "cost_usd": 1.0})
        store.record_llm_call({"session_id": sid, "ticket": 1, "role": "coder", "model": "openai/b", "cost_usd": 0.1})
        fitness = {"s": 0.5, "by-a": 0.4, "by-b": 0.6}
        cfg = AgentsConfig.from_dict({"api_base": scripted_server.url, "routing": "bandit", **PRICES,
                                      "models": [{"model": "openai/a"}, {"model": "openai/b"}]})
        picks = Counter(LLMClient(cfg, StoreDesignContext(store, sid, 2, fitness), seed=s).ask("coder", [
            {"role": "user", "content": f"q{s}"}]).model for s in range(5))
        assert picks == {"openai/b": 5}
        rewards = LLMClient(cfg, StoreDesignContext(store, sid, 2, fitness)).rewards
        assert rewards == {"openai/a": [pytest.approx(-0.1)], "openai/b": [pytest.approx(1.0)]}   # gain per dollar
        weighted = AgentsConfig.from_dict({"api_base": scripted_server.url, **PRICES,
                                           "models": [{"model": "openai/a"}, {"model": "openai/b"}]})
        assert LLMClient(weighted, StoreDesignContext(store, sid, 3, fitness)).rewards == {}
    finally:
        store.close()
