"""Symbolic designer yield: per operator, how many tries it made, how many reached the checker, how many
passed it, and the wall time per valid child (each operator alone, on seeded requests over the five seeds).

    python bench/symbolic.py [--per-operator 5] [--attempts 4] [--json out.json]

Children accumulate per operator (each request sees the earlier children in its library and as known hashes),
as in an evolution. Timings are wall-clock on whatever machine runs this; on a shared CPU they are upper bounds.
"""
from __future__ import annotations

import argparse
import collections
import json
import time

from genesys.evolution.designers.base import DesignRequest, Parent
from genesys.evolution.designers.symbolic import SymbolicDesigner
from genesys.evolution.designers.symbolic.library import seed_trees
from genesys.evolution.designers.symbolic.operators import MODES
from genesys.gau.hashing import structural_hash


def run(per_operator: int, attempts: int) -> dict:
    seeds = list(seed_trees())
    known = {structural_hash(t) for t in seeds}
    rows = {}
    for mode, ops in MODES.items():
        for op in ops:
            designer = SymbolicDesigner(ops_weights={o: (1.0 if o == op else 0.0) for o in
                                                     ("swap", "insert", "delete", "hparam", "graft", "scratch")})
            stats = collections.Counter()
            library = list(seeds)
            start = time.perf_counter()
            for i in range(per_operator):
                parents = {"mutation": [seeds[i % 5]], "crossover": [seeds[i % 5], seeds[(i + 1 + i // 5) % 5]],
                           "scratch": []}[mode]
                request = DesignRequest(mode=mode, parents=[Parent(p.name, p) for p in parents], seed=1000 + i,
                                        library=library, is_known=known.__contains__, max_attempts=attempts)
                out = designer.design(request)
                stats["requests"] += 1
                for a in out.attempts:
                    stats["tries"] += 1
                    reason = a.reason or ""
                    if a.valid or reason.startswith(("checker", "size")):
                        stats["checked"] += 1
                    stats["valid"] += a.valid
                    stats["duplicate"] += reason.startswith("duplicate")
                    stats["no_move"] += reason.startswith("no move")
                    stats["size"] += reason.startswith("size")
                    if reason.startswith("checker"):
                        stats["checker_" + reason.split(":")[1].strip()] += 1
                if out.tree is not None:
                    stats["children"] += 1
                    known.add(out.struct_hash)
                    library.append(out.tree)
                    print(f"{op:8s} {out.name}: {out.proposal}", flush=True)
                else:
                    print(f"{op:8s} none: {[a.reason for a in out.attempts]}", flush=True)
            stats["seconds"] = round(time.perf_counter() - start, 1)
            rows[op] = dict(stats)
            print(op, dict(stats), flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-operator", type=int, default=5)
    ap.add_argument("--attempts", type=int, default=4)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    rows = run(args.per_operator, args.attempts)
    print(f"{'operator':9s} {'requests':>8s} {'children':>8s} {'tries':>6s} {'checked':>7s} {'valid':>6s} "
          f"{'share':>6s} {'s/child':>8s}")
    for op, s in rows.items():
        share = s.get("valid", 0) / s["checked"] if s.get("checked") else float("nan")
        per = s["seconds"] / s["children"] if s.get("children") else float("nan")
        print(f"{op:9s} {s['requests']:8d} {s.get('children', 0):8d} {s.get('tries', 0):6d} {s.get('checked', 0):7d} "
              f"{s.get('valid', 0):6d} {share:6.2f} {per:8.1f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
