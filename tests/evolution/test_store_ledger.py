"""The LLM ledger and response cache, on SQLite and PostgreSQL."""
import pytest

from genesys.evolution.design_context import StoreDesignContext


def test_ledger_rows_sum_to_the_measured_spend(store):
    session = store.start_session("designer", "d0", {})
    ctx = StoreDesignContext(store, session, ticket=3)
    ctx.record_call({"role": "proposer", "model": "m", "cost_usd": 0.25, "prompt_tokens": 10, "completion_tokens": 5})
    ctx.record_call({"role": "coder", "model": "m", "cost_usd": None, "ok": False, "error": "timeout"})
    ctx.record_call({"role": "coder", "model": "m", "cost_usd": 0.5, "cached": True})
    other = store.start_session("designer", "d1", {})
    StoreDesignContext(store, other, ticket=4).record_call({"role": "reviewer", "model": "m", "cost_usd": 1.0})
    assert store.llm_spent(session) == pytest.approx(0.75) and store.llm_spent() == pytest.approx(1.75)
    assert ctx.run_spent_usd() == pytest.approx(1.75)
    rows = store.llm_calls(ticket=3)
    assert [r.role for r in rows] == ["proposer", "coder", "coder"] and rows[1].cost_usd is None
    assert rows[1].ok is False and rows[2].cached is True and rows[0].session_id == session
    with pytest.raises(ValueError, match="unknown ledger fields"):
        store.record_llm_call({"role": "x", "model": "m", "price": 1})


def test_cache_keeps_the_first_answer_and_checkpoints_are_per_ticket(store):
    ctx = StoreDesignContext(store, None, ticket=7)
    assert ctx.cache_get("k") is None
    ctx.cache_put("k", {"text": "first"})
    ctx.cache_put("k", {"text": "second"})
    assert ctx.cache_get("k") == {"text": "first"}
    assert ctx.load_checkpoint() is None
    ctx.save_checkpoint({"frozen": ["A"]})
    assert ctx.load_checkpoint() == {"frozen": ["A"]}
    assert StoreDesignContext(store, None, ticket=8).load_checkpoint() is None
    ctx.trace("proposal", {"name": "p1", "parents": ["gpt2"], "text": "use a gate", "rating": 3})
    other = StoreDesignContext(store, None, ticket=8)
    assert [p["name"] for p in other.proposals()] == ["p1"] and other.proposals()[0]["implemented"] is False
    assert ctx.proposals() == []            # a session's own proposals are not "earlier" ones (replay sees the same)
