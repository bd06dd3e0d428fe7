"""`python -m genesys +experiment=full` at quickstart size with the scripted server as the provider: LLM design
sessions run inside the evolution, through litellm's HTTP path, and the store keeps their traces and costs."""
from __future__ import annotations

import json
import os

import pytest

from genesys.evolution.store import Store
from tests.agents.policy import Policy
from tests.agents.server import ScriptedServer
from tests.evolution.evolution_helpers import make_corpus, run_genesys, tiny_overrides

pytestmark = [pytest.mark.integration, pytest.mark.slow]

QUICKSTART_SIZE = ["agents=scripted", "ladder=cpu", "eval=local", "knowledge=offline", "verify.threads=1",
                   "++designer.check_options.lengths=[1,7,65]", "++designer.final_check_options.skip=[efficiency,training]"]


def test_full_experiment_runs_llm_design_sessions_in_the_evolution(tmp_path):
    server = ScriptedServer(Policy(defects=["syntax", "causality"])).start()
    secret = "sk-test-FULLRUN-SECRET-4b1d"    # the provider's key: it reaches the server and nothing the run writes
    other = "sk-test-OTHER-PROVIDER-9e2c"      # a key for another provider: it goes nowhere
    try:
        run_dir = tmp_path / "run"
        overrides = ["+experiment=full"] + tiny_overrides(run_dir, make_corpus(tmp_path / "corpus"), 1) + \
            QUICKSTART_SIZE + ["agents.api_key_env=SCRIPTED_API_KEY"]
        proc = run_genesys(overrides, env={**os.environ, "GENESYS_SCRIPTED_URL": server.url, "WANDB_MODE": "offline",
                                           "SCRIPTED_API_KEY": secret, "OPENAI_API_KEY": other})
        out, _ = proc.communicate(timeout=900)
    finally:
        server.stop()
    assert proc.returncode == 0, out[-6000:]
    store = Store.open(run_dir)
    try:
        new = [d for d in store.designs() if not d.is_seed]
        assert len(new) == 1 and new[0].operator == "llm" and new[0].proposal and new[0].checker_report["valid"]
        calls = store.llm_calls()
        assert calls and {c.role for c in calls} >= {"proposer", "reviewer", "planner", "coder", "observer"}
        assert len([c for c in calls if not c.cached]) == len(server.chat_requests())
        assert new[0].meta["cost_usd"] == pytest.approx(sum(c.cost_usd or 0 for c in calls
                                                             if c.ticket == new[0].meta["ticket"]))
        traces = [e.payload["kind"] for e in store.events(kind="trace")]
        assert "proposal" in traces and "unit" in traces
        assert store.verifications(design=new[0].name, status="done")   # the LLM's design was trained
    finally:
        store.close()
    board = json.loads((run_dir / "leaderboard.json").read_text())
    assert any(e["name"] == new[0].name and e["fitness"] is not None for e in board)

    # The key was used (litellm sent it to the provider) and appears in no prompt, trace, log, store row or W&B run.
    sent = [str(r["headers"]) + str(r["body"]) for r in server.chat_requests()]
    assert all(secret in {k.lower(): v for k, v in r["headers"].items()}.get("authorization", "")
               for r in server.chat_requests())
    assert not any(secret in str(r["body"]) or other in s for r, s in zip(server.chat_requests(), sent))
    assert secret not in out and other not in out and list(run_dir.rglob("*.wandb"))   # the evolution's W&B run exists
    leaks = [p for p in run_dir.rglob("*") if p.is_file() and (secret.encode() in p.read_bytes() or
                                                                other.encode() in p.read_bytes())]
    assert not leaks, leaks
