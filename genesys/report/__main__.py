"""`python -m genesys.report RUN` — the HTML report of an evolution run (a run folder, an SQLite file or a store URL)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List, Optional


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m genesys.report", description=__doc__)
    parser.add_argument("run", help="run folder (outputs/evolution/<run>), evolution.db file, or store URL")
    parser.add_argument("--out", help="report folder (default: <run folder>/report)")
    parser.add_argument("--top", type=int, default=50, help="population size P of the fitness curve (default 50)")
    parser.add_argument("--every", type=int, default=10, help="sample the curve every s designs (default 10)")
    parser.add_argument("--fitness", choices=("eq1", "massey"),
                        help="fitness aggregation (default: the run's own setting, else eq1)")
    parser.add_argument("--wandb", nargs="?", const="auto", choices=("auto", "offline", "online"),
                        help="also log the evolution as one W&B run (offline unless a key is set) under <out>/wandb")
    args = parser.parse_args(argv)

    from genesys.report.data import load_run
    from genesys.report.html import write_report
    try:
        run = load_run(args.run, fitness_method=args.fitness)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.out:
        out = Path(args.out)
    elif run.run_dir is not None:
        out = run.run_dir / "report"
    else:
        parser.error("--out is required when the run is given as a store URL")
    index = write_report(run, out, top=args.top, every=args.every)
    print(f"report: {index.resolve()}")
    if args.wandb:
        from genesys.report.summary import run_metrics
        from genesys.report.wandb_log import log_evolution
        folder = log_evolution(run, run_metrics(run, top=args.top, every=args.every), out / "wandb", args.wandb)
        print(f"W&B run: {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
