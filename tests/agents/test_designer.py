"""LLM design sessions against the scripted server, through litellm's HTTP path and the real sandboxed checker:
a three-unit design implemented unit by unit, defects repaired from the checker's errors, ratings that fail,
rollback to the frozen tree, the novelty filter, cache replay, resume after a crash, and each ablation."""
from __future__ import annotations

import itertools

import pytest

from genesys.agents.designer import LLMDesigner
from genesys.agents.implementation import ImplementationSettings, Implementer
from genesys.agents.llm.client import LLMClient
from genesys.agents.schemas import Proposal
from genesys.evolution.design_context import StoreDesignContext
from genesys.evolution.designers import DesignRequest, Parent
from genesys.evolution.store import Store
from genesys.gau import load_design
from genesys.paths import SEEDS_DIR
from tests.agents.policy import Policy
from tests.agents.server import http

FAST_CHECK = {"skip": ["efficiency", "training", "long_context", "determinism"], "lengths": [1, 7, 65],
              "causality": {"lengths": [33, 65]}, "gradient": {"length": 33, "perturbed_lengths": [33]}}
GPT2 = load_design(SEEDS_DIR / "gpt2")


@pytest.fixture
def store(tmp_path):
    opened = Store.open(tmp_path / "run")
    yield opened
    opened.close()


def designer(server, checks=None, **kwargs):
    d = LLMDesigner(agents={"model": "openai/scripted", "api_base": server.url, "input_cost_per_token": 1e-6,
                            "output_cost_per_token": 2e-6, "retries": 1, "backoff_s": 0.01, "timeout_s": 30},
                    proposal={"novelty_threshold": 0.995, **kwargs.pop("proposal", {})},
                    implementation=kwargs.pop("implementation", {}), check_options=FAST_CHECK,
                    final_check_options=FAST_CHECK, **kwargs)
    if checks is not None:       # count the checker's runs
        inner = d.check

        def counted(tree, final=False):
            checks.append((tree.implemented(), final))
            return inner(tree, final)
        d.check = counted
    return d


def request(store, ticket=0, seed=1, context=True):
    ctx = StoreDesignContext(store, store.start_session("designer", "d", {}), ticket) if context else None
    return DesignRequest(mode="mutation", parents=[Parent("gpt2", GPT2)], seed=seed, library=[GPT2], context=ctx)


def roles(server):
    import re
    return [re.search(r"role=(\w+)", r["body"]["messages"][0]["content"]).group(1) for r in server.chat_requests()]


def test_a_three_unit_design_is_implemented_unit_by_unit(scripted_server, store):
    scripted_server.responder = Policy()
    checks = []
    out = designer(scripted_server, checks).design(request(store))
    assert out.tree is not None and out.checker_report["valid"]
    new = set(out.tree.implemented()) - set(GPT2.implemented())
    assert len(new) == 2 and set(out.tree.units["SwiGLU"].children) == new            # SwiGLU rewritten, 2 new units
    assert out.tree.units["SwiGLU"].code != GPT2.units["SwiGLU"].code
    assert [c[1] for c in checks] == [False, False, False, True]          # one check per unit, then the final one
    assert len(checks[0][0]) < len(checks[1][0]) < len(checks[2][0])      # the tree grows unit by unit
    assert roles(scripted_server).count("coder") == 3 and roles(scripted_server).count("observer") == 3
    calls = store.llm_calls()
    assert len(calls) == len(scripted_server.chat_requests())
    assert out.cost_usd == pytest.approx(sum(c.cost_usd for c in calls)) == pytest.approx(store.llm_spent())
    kinds = [e.payload["kind"] for e in store.events(kind="trace")]
    assert kinds.count("unit") == 3 and "proposal" in kinds and kinds.count("observation") == 3


def test_defective_units_are_fixed_from_the_checkers_errors(scripted_server, store):
    scripted_server.responder = Policy(defects=["syntax", "shape", "causality", "wrong_child_call"])
    out = designer(scripted_server).design(request(store))
    assert out.tree is not None and out.checker_report["valid"]
    failed = [a for a in out.attempts if a.operator == "unit" and not a.valid]
    assert failed and all(a.reason for a in failed)
    debug_prompts = [r["body"]["messages"][-1]["content"] for r in scripted_server.chat_requests()
                     if "Your previous version failed" in r["body"]["messages"][-1]["content"]]
    assert len(debug_prompts) == len(failed) and any("[" in p for p in debug_prompts)


def test_proposals_retry_a_wrong_unit_and_a_failed_review(scripted_server, store):
    ratings = itertools.chain([2], itertools.repeat(5))

    class Picky(Policy):
        def reviewer(self, *args):
            import json
            return json.dumps({"rating": next(ratings), "review": "too vague", "suggestions": "be specific"})
    scripted_server.responder = Picky(wrong_unit_first=True)
    out = designer(scripted_server, implementation={"observer": False}).design(request(store))
    assert out.tree is not None
    prompts = [r["body"]["messages"][-1]["content"] for r in scripted_server.chat_requests()]
    assert any("is not a unit of gpt2" in p for p in prompts)                  # the wrong unit came back as a failure
    assert any("was rated 2/5" in p for p in prompts)                          # the review went into the next attempt
    traced = [e.payload for e in store.events(kind="trace") if e.payload["kind"] == "proposal"]
    assert [t["rating"] for t in traced] == [2, 5]


def test_the_novelty_filter_rejects_a_near_copy_before_review(scripted_server, store):
    scripted_server.responder = Policy()
    first = designer(scripted_server, implementation={"observer": False}).design(request(store, ticket=0))
    assert first.tree is not None
    # the same request again (another ticket): the same proposal comes back, is filtered, and the next one differs
    second = designer(scripted_server, proposal={"novelty_threshold": 0.9}, implementation={"observer": False}).design(request(store, ticket=1, seed=1))
    traced = [e.payload for e in store.events(kind="trace") if e.payload["kind"] == "proposal"]
    assert any(t["rejected"] and "too close" in t["rejected"] for t in traced)
    assert second.tree is None or second.name != first.name


def test_a_unit_that_keeps_failing_rolls_back_to_the_frozen_tree(scripted_server, store):
    scripted_server.responder = Policy(observer_rating=1)
    ctx = StoreDesignContext(store, None, 5)
    req = DesignRequest(mode="mutation", parents=[Parent("gpt2", GPT2)], seed=1, library=[GPT2], context=ctx)
    proposal = Proposal(name="Roll", selected_unit="SwiGLU", abstract="GELU-gated", proposal="a GELU-gated MLP")
    d = designer(scripted_server)
    chat = LLMClient(d.agents, ctx, 1)
    result = Implementer(chat, ImplementationSettings(debug_attempts=2, failed_rounds=1), d.check, req, proposal,
                         ctx).run()
    assert result.tree is None and result.stop == "failed_rounds"
    saved = ctx.load_checkpoint()
    start = GPT2.copy()
    start.units.pop("SwiGLU")
    assert sorted(saved["tree"]["units"]) == sorted(start.units)             # exactly the frozen tree, nothing of
    assert [e.payload["kind"] for e in store.events(kind="trace")].count("rollback") == 1   # the failed unit kept


def test_a_rerun_replays_from_the_cache_with_zero_calls(scripted_server, store):
    scripted_server.responder = Policy()
    first = designer(scripted_server, implementation={"observer": False}).design(request(store, ticket=0))
    n = len(scripted_server.chat_requests())
    again = designer(scripted_server, implementation={"observer": False}).design(request(store, ticket=0))
    assert len(scripted_server.chat_requests()) == n
    assert again.tree is not None and again.name == first.name and again.cost_usd == 0
    assert {c.cached for c in store.llm_calls()[n:]} == {True}


def test_a_crashed_session_resumes_from_its_last_frozen_unit(scripted_server, store):
    scripted_server.responder = Policy()
    d = designer(scripted_server, implementation={"observer": False, "planner": False})
    inner, checks = d.check, []

    def dies_at_the_second_unit(tree, final=False):
        checks.append(tree)
        if len(checks) == 2:
            raise KeyboardInterrupt("the worker was killed")       # the process dies mid-session
        return inner(tree, final)
    d.check = dies_at_the_second_unit
    with pytest.raises(KeyboardInterrupt):
        d.design(request(store, ticket=9))
    saved = StoreDesignContext(store, None, 9).load_checkpoint()
    assert saved is not None and len(saved["tree"]["units"]) > len(GPT2.units) - 1      # one unit frozen
    before = len(scripted_server.chat_requests())
    resumed = designer(scripted_server, implementation={"observer": False, "planner": False}).design(
        request(store, ticket=9, seed=2))
    assert resumed.tree is not None
    assert any(e.payload["kind"] == "resume" for e in store.events(kind="trace"))
    coder_calls = [r for r in scripted_server.chat_requests()[before:] if "role=coder" in r["body"]["messages"][0]["content"]]
    assert len(coder_calls) < 3


def test_a_failed_call_costs_one_attempt_not_the_session(scripted_server, store):
    good, count = Policy(), {"coder": 0}

    def second_coder_call_fails(body):
        if "role=coder" in body["messages"][0]["content"]:
            count["coder"] += 1
            if count["coder"] == 2:
                return http(400)[0]                                  # not retried by the client
        return good(body)
    scripted_server.responder = second_coder_call_fails
    out = designer(scripted_server, implementation={"observer": False}).design(request(store))
    assert out.tree is not None
    assert any(a.operator == "unit" and not a.valid and "[llm]" in (a.reason or "") for a in out.attempts)


@pytest.mark.parametrize("flags,expect", [
    ({"unit_generation": False}, {"coder": 1, "planner": 0}),
    ({"direct": True}, {"coder": 1, "planner": 0, "observer": 0}),
    ({"planner": False}, {"planner": 0, "coder": 3}),
    ({"observer": False}, {"observer": 0, "coder": 3}),
    ({"symbolic_checker": False}, {"coder": 3}),
])
def test_ablation_flags_change_the_flow(scripted_server, store, flags, expect):
    scripted_server.responder = Policy()
    checks = []
    out = designer(scripted_server, checks, implementation=flags).design(request(store))
    assert out.tree is not None and out.checker_report["valid"]
    asked = roles(scripted_server)
    for role, n in expect.items():
        assert asked.count(role) == n, (role, asked)
    loop_checks = [c for c in checks if not c[1]]
    if flags.get("symbolic_checker") is False or flags.get("direct"):
        assert loop_checks == []                                  # no checker in the loop ...
    assert checks[-1][1] is True                                  # ... but the final verdict is always the checker's
