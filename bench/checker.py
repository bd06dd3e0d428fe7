"""Checker benchmark: wall time of a full check per seed, and of its causality + gradient checks.

    python bench/checker.py [--write] [--seeds gpt2 mamba2 ...]

`--write` replaces the `## Checker` section of BENCHMARKS.md with the table (other sections are kept).
Timings are wall-clock on whatever machine runs this; on a shared CPU they are upper bounds.
"""
from __future__ import annotations

import argparse
import os
import platform
import re
import time


from genesys.checker import check
from genesys.paths import REPO_ROOT, SEEDS_DIR, seed_names


def bench(seed: str) -> dict:
    start = time.perf_counter()
    report = check(SEEDS_DIR / seed)
    wall = time.perf_counter() - start
    t = report.timings
    m = report.metrics
    return {"seed": seed, "valid": report.valid, "wall": wall, "runtime": t.get("runtime", 0.0),
            "causal_grad": t.get("causality", 0.0) + t.get("gradient", 0.0),
            "phases": sum(v for k, v in t.items() if k not in ("static", "runtime", "total")),
            "time_ratio": m.get("time_ratio"), "memory_ratio": m.get("memory_ratio"),
            "growth": m.get("growth_exponent"), "train_drop": m.get("train_drop_ratio"),
            "warnings": [w.message for w in report.warnings], "errors": [e.message for e in report.errors]}


def table(rows) -> str:
    out = ["| seed | verdict | full check wall (s) | of which child start-up (s) | causality + gradient (s) | "
           "time vs gpt2 @512 | peak memory vs gpt2 | time growth exponent | train loss drop vs gpt2 |",
           "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        verdict = "valid" if r["valid"] else "INVALID"
        if r["warnings"]:
            verdict += f" ({len(r['warnings'])} warning{'s' if len(r['warnings']) > 1 else ''})"
        out.append(f"| {r['seed']} | {verdict} | {r['wall']:.1f} | {r['runtime'] - r['phases']:.1f} | "
                   f"{r['causal_grad']:.2f} | {r['time_ratio']:.2f}x | {r['memory_ratio']:.2f}x | "
                   f"{r['growth']:.2f} | {r['train_drop']:.2f} |")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--seeds", nargs="*")
    args = parser.parse_args()
    seeds = args.seeds or seed_names()
    rows = [bench(s) for s in seeds]
    text = table(rows)
    notes = [f"- {r['seed']}: {w}" for r in rows for w in r["warnings"] + r["errors"]]
    load = os.getloadavg()[0]
    section = (f"## Checker\n\n`python bench/checker.py --write` ({time.strftime('%Y-%m-%d')}; {platform.machine()}, "
               f"{os.cpu_count()} CPUs, load average {load:.1f}; check scale d_model 64, 2 blocks, one intra-op "
               f"thread in the sandboxed child; conf/check/default.yaml).\n\n{text}\n\n"
               "Findings (warnings are honest measurements at the check scale, not errors):\n"
               + ("\n".join(notes) if notes else "- none") + "\n")
    print(section)
    if args.write:
        path = REPO_ROOT / "BENCHMARKS.md"
        current = path.read_text() if path.exists() else "# Benchmarks\n"
        pattern = re.compile(r"## Checker\n.*?(?=\n## |\Z)", re.S)
        current = pattern.sub(section.rstrip("\n") + "\n", current) if pattern.search(current) else \
            current.rstrip("\n") + "\n\n" + section
        path.write_text(current)


if __name__ == "__main__":
    main()
