"""`python -m genesys.report RUN_FOLDER [--out FOLDER]`: the run's HTML report (see genesys/report/html.py)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m genesys.report", description=__doc__)
    parser.add_argument("run", type=Path, help="an evolution run folder (outputs/evolution/<run_name>)")
    parser.add_argument("--out", type=Path, default=None, help="default: <run folder>/report")
    args = parser.parse_args(argv)
    if not (args.run / "leaderboard.json").exists():
        print(f"{args.run} holds no leaderboard.json: not a finished evolution run folder", file=sys.stderr)
        return 2
    from genesys.report.html import write_report
    out = write_report(args.run, args.out)
    print(f"report: {out / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
