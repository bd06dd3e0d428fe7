"""A small evolution written straight through the Store API: real seed trees, real composed code, records shaped
like a real run's (proxy-suite tables at rung 0, val loss against the unigram baseline on cpu_xs), with known
fitness order, one failed attempt, one diverged training, a failed design request and LLM-shaped hostile text."""
from __future__ import annotations

from pathlib import Path

from genesys.evolution.store import Store
from genesys.gau import compose, load_design

REPO = Path(__file__).resolve().parents[2]
HOSTILE = '../../evil"<script>alert(1)</script>'
DESIGNER = {"_target_": "genesys.evolution.designers.symbolic.SymbolicDesigner", "max_attempts": 8}

# name, parents, mode, operator, proxy accuracy (compression, mqar), cpu_xs val loss or None
NEW = [
    ("gpt2-swap-a", ["gpt2"], "mutation", "swap", (0.20, 0.30), 3.90),
    ("retnet-hparam-b", ["retnet"], "mutation", "hparam", (0.15, 0.20), None),
    ("gpt2-swap-a-insert-c", ["gpt2-swap-a"], "mutation", "insert", (0.25, 0.35), 3.80),
    (HOSTILE, ["gpt2"], "mutation", "delete", (0.05, 0.06), None),
    ("graft-d", ["gpt2-swap-a-insert-c", "retnet-hparam-b"], "crossover", "graft", (0.30, 0.40), 3.70),
    ("gpt2-hparam-e", ["gpt2"], "mutation", "hparam", (0.12, 0.18), 3.95),
]
SEEDS = {"gpt2": ((0.10, 0.15), 4.00), "retnet": ((0.11, 0.14), 4.05)}
UNIGRAM = 4.39


def proxy_record(design: str, acc: tuple, seed: int = 0) -> dict:
    table = {task: {"accuracy": a, "random_baseline": 0.0625, "final_loss": 2.7, "seconds": 1.7, "steps": 60,
                    "batch_size": 16, "metric": "accuracy", "higher_is_better": True}
             for task, a in zip(("compression", "mqar"), acc)}
    return {"design": design, "scale": "proxy", "params": {"total": None, "non_embedding": 21768, "d_model": 32,
                                                          "n_block": 2},
            "tokens": None, "time_s": 1.73, "train_loss": None, "val_loss": None, "val_bits_per_byte": None,
            "unigram_val_loss": None, "stop_reason": "completed", "eval": {"proxy": table, "seconds": 1.73},
            "stop_detail": None, "steps": 0, "resumed_from_step": 0, "config": {"seed": seed}}


def lm_record(design: str, loss: float, stop: str = "completed", seed: int = 0) -> dict:
    return {"design": design, "scale": "tiny", "params": {"total": 35628, "non_embedding": 30508}, "tokens": 71680,
            "time_s": 10.6, "train_loss": loss + 0.05, "val_loss": loss, "val_bits_per_byte": loss * 0.92,
            "unigram_val_loss": UNIGRAM, "stop_reason": stop, "eval": None, "stop_detail": None, "steps": 70,
            "resumed_from_step": 0, "autotune": {"n_block": 7, "d_model": 16, "params": 35628},
            "config": {"seed": seed}}


def _verify(store: Store, name: str, rung: str, record: dict, seed: int = 0) -> None:
    claim = store.claim(name, rung, "verifier-0", lease_s=60, seed=seed)
    store.complete(claim, record, record["stop_reason"])


def build_run(run_dir: Path) -> Path:
    """Write the run folder (evolution.db and the composed config the report reads the ladder from)."""
    run_dir = Path(run_dir)
    (run_dir / ".hydra").mkdir(parents=True, exist_ok=True)
    (run_dir / ".hydra" / "config.yaml").write_text(
        "ladder:\n  scales: [cpu_xs, cpu_s]\n  proxy_rung: true\n  points: {proxy: 1, cpu_xs: 2, cpu_s: 3}\n"
        "selection:\n  fitness: eq1\n  margin: 0.02\n")
    with Store.open(run_dir) as store:
        trees = {}
        for seed, (acc, loss) in SEEDS.items():
            tree = load_design(str(REPO / "seeds" / seed))
            trees[seed] = tree
            store.add_design(seed, tree.to_dict(), compose(tree), f"hash-{seed}", [], "seed", is_seed=True,
                             meta={"path": f"seeds/{seed}"})
            _verify(store, seed, "proxy", proxy_record(seed, acc))
            _verify(store, seed, "cpu_xs", lm_record(seed, loss))
        _verify(store, "gpt2", "cpu_xs", lm_record("gpt2", loss=4.02, seed=1), seed=1)   # a noise repeat
        session = store.start_session("designer", "designer-0", {"designer": DESIGNER})
        for ticket, (name, parents, mode, op, acc, loss) in enumerate(NEW):
            tree = trees[parents[0]].copy()
            tree.name = name
            trees[name] = tree
            store.event("attempt", {"ticket": ticket, "mode": mode, "operator": op, "valid": True, "reason": None,
                                    "seconds": 1.0, "parents": parents}, session_id=session)
            store.add_design(name, tree.to_dict(), compose(tree) + f"\n# {name}\n", f"hash-{name}", parents, mode,
                             operator=op, proposal=f"<b>proposal</b> for {name}", review=None,
                             checker_report={"valid": True, "errors": [], "warnings": [
                                 {"category": "efficiency", "check": "efficiency.time", "message": "<i>slow</i>",
                                  "hint": "use a scan"}], "checks": [{"check": "static", "status": "pass"}]},
                             session_id=session, meta={"ticket": ticket, "attempts": 1, "cost_usd": None})
            store.event("design", {"ticket": ticket, "name": name, "mode": mode, "operator": op, "parents": parents},
                        session_id=session)
            _verify(store, name, "proxy", proxy_record(name, acc))
            if loss is not None:
                _verify(store, name, "cpu_xs", lm_record(name, loss))
        # a request whose two attempts were both refused by the checker
        ticket = len(NEW)
        for _ in range(2):
            store.event("attempt", {"ticket": ticket, "mode": "mutation", "operator": "swap", "valid": False,
                                    "reason": "checker: causality", "seconds": 1.0, "parents": ["gpt2"]},
                        session_id=session)
        store.event("design_none", {"ticket": ticket, "mode": "mutation", "parents": ["gpt2"], "attempts": 2},
                    session_id=session)
        store.end_session(session, "done")
        # verification trouble: one crash then a success, one diverged training
        claim = store.claim("retnet-hparam-b", "cpu_xs", "verifier-0", lease_s=60)
        store.fail(claim, "crashed: out of memory")
        _verify(store, "retnet-hparam-b", "cpu_xs", lm_record("retnet-hparam-b", 3.98))
        _verify(store, HOSTILE, "cpu_xs", lm_record(HOSTILE, 9.0, stop="nan_loss"))
    return run_dir
