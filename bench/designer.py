"""The LLM designer's paper Table 4: how many proposals end in a valid design, and after how many attempts, for the
full designer and its ablations (no symbolic checker in the loop, no unit generation, no planner, no observer, Direct
prompting). Each proposal is one design session (a mutation of a seed, seeds in turn), judged by the full checker.

    python bench/designer.py --agents openai --proposals 50                  # against a real model (costs money)
    python bench/designer.py --agents local agents.model=openai/<served> ... # a local server
    python bench/designer.py --scripted flawed --proposals 4                 # offline: the harness against the
                                                                               # scripted server (not a model result)
Results go to BENCHMARKS.md "Designer (paper Table 4)", labelled with the model that produced them.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from report import machine, write_section  # noqa: E402

VARIANTS = {
    "Full": {},
    "w/o symbolic checker": {"symbolic_checker": False},
    "w/o unit generation": {"unit_generation": False},
    "w/o planner": {"planner": False},
    "w/o observer": {"observer": False},
    "Direct": {"direct": True},
}
PAPER = {"Full": "92 % (2.6 ± 1.1)", "w/o symbolic checker": "30 %", "w/o unit generation": "73 %",
         "w/o planner": "91 %", "w/o observer": "89 %", "Direct": "6 %"}
SEEDS = ["gpt2", "mamba2", "retnet", "rwkv6", "ttt"]


def agents_config(name: str, overrides: list) -> dict:
    from omegaconf import OmegaConf

    from genesys.config import compose_config
    cfg = compose_config("config", [f"agents={name}", *overrides])
    return OmegaConf.to_container(cfg.agents, resolve=True)


def run_variant(variant: str, flags: dict, agents: dict, n: int, check_options: dict) -> dict:
    from genesys.agents.designer import LLMDesigner
    from genesys.evolution.design_context import StoreDesignContext
    from genesys.evolution.designers import DesignRequest, Parent
    from genesys.evolution.store import Store
    from genesys.gau import load_design
    from genesys.paths import SEEDS_DIR
    seeds = [load_design(SEEDS_DIR / s) for s in SEEDS]
    store = Store.open(Path(tempfile.mkdtemp(prefix="bench-designer-")) / "run")
    designer = LLMDesigner(agents=agents, implementation=flags, check_options=check_options,
                           final_check_options=check_options, knowledge=None)
    valid, attempts, costs, seconds = 0, [], [], []
    for i in range(n):
        parent = seeds[i % len(seeds)]
        ctx = StoreDesignContext(store, store.start_session("designer", variant, {}), ticket=i)
        start = time.monotonic()
        out = designer.design(DesignRequest(mode="mutation", parents=[Parent(parent.name, parent)], seed=i,
                                            library=seeds, context=ctx))
        seconds.append(time.monotonic() - start)
        tries = [a for a in out.attempts if a.operator in ("unit", "whole", "direct", "reuse")]
        if out.tree is not None:
            valid += 1
            attempts.append(len(tries))
        costs.append(out.cost_usd or 0.0)
        print(f"  {variant} {i + 1}/{n}: {'valid' if out.tree is not None else 'invalid'} "
              f"({len(tries)} attempts, {seconds[-1]:.0f} s)", flush=True)
    store.close()
    return {"valid": valid, "n": n, "attempts": attempts, "cost": sum(costs), "seconds": sum(seconds)}


def table(results: dict) -> str:
    rows = ["| variant | valid | attempts per valid design (mean ± sd) | cost USD | wall s | paper (Table 4) |",
            "|---|---|---|---|---|---|"]
    for name, r in results.items():
        att = r["attempts"]
        spread = f"{statistics.mean(att):.1f} ± {statistics.pstdev(att):.1f}" if att else "–"
        rows.append(f"| {name} | {r['valid']}/{r['n']} ({100 * r['valid'] / r['n']:.0f} %) | {spread} | "
                    f"{r['cost']:.4f} | {r['seconds']:.0f} | {PAPER[name]} |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", default="default", help="conf/agents option")
    parser.add_argument("--scripted", choices=["good", "flawed"], help="serve the scripted policy in-process")
    parser.add_argument("--proposals", type=int, default=50)
    parser.add_argument("--variants", nargs="*", default=list(VARIANTS))
    parser.add_argument("--fast-check", action="store_true", help="skip the checker's efficiency/training phases")
    parser.add_argument("overrides", nargs="*", help="config overrides of the agents group, e.g. agents.model=...")
    args = parser.parse_args()
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    server = None
    if args.scripted:
        from tests.agents.policy import POLICIES
        from tests.agents.server import ScriptedServer
        server = ScriptedServer(POLICIES[args.scripted]()).start()
        os.environ["GENESYS_SCRIPTED_URL"] = server.url
        args.agents = "scripted"
    agents = agents_config(args.agents, args.overrides)
    check = {"skip": ["efficiency", "training", "long_context"]} if args.fast_check else {}
    results = {}
    for name in args.variants:
        print(f"{name}:", flush=True)
        results[name] = run_variant(name, VARIANTS[name], agents, args.proposals, check)
    if server is not None:
        server.stop()
    models = sorted({m["model"] for m in [agents] + [r for r in (agents.get("roles") or {}).values()]
                     if m and m.get("model")})
    who = (f"the scripted test server (policy `{args.scripted}`): this shows the harness works; it is NOT a model's "
           f"result, and its costs are the scripted preset's nominal prices" if args.scripted else f"model(s): {', '.join(models)}")
    body = (f"`python bench/designer.py {' '.join(sys.argv[1:])}` — {args.proposals} proposals per variant (mutations "
            f"of the five seeds in turn), each judged by the full checker{' (fast phases only)' if check else ''}. "
            f"Answers from {who}. Machine: {machine()}.\n\n" + table(results))
    print(body)
    write_section("Designer (paper Table 4)", body)


if __name__ == "__main__":
    main()
