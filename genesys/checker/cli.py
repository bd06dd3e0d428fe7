"""`python -m genesys.check PATH [--json] [overrides]`: exit 0 valid, 1 invalid, 2 usage error.

Overrides are Hydra-style `key=value` (dotted keys for groups: `efficiency.time_warn=2`, lists as `[7,64]`)
and/or flags `--key value` (`--d_model 128`, `--causality.lengths [7,130]`).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List, Optional

from genesys.checker.config import ConfigError, load_config
from genesys.paths import resolve_design


def _parse(argv: List[str]):
    parser = argparse.ArgumentParser(prog="python -m genesys.check",
                                     description="Check a GAU design (unit .py file or design folder).")
    parser.add_argument("path", help="a unit .py file or a design folder")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    parser.add_argument("--fixed-out", help="write the auto-fixed unit sources into this folder")
    args, rest = parser.parse_known_args(argv)
    dotlist, i = [], 0
    while i < len(rest):
        item = rest[i]
        if item.startswith("--") and "=" in item:
            dotlist.append(item[2:])
        elif item.startswith("--"):
            if i + 1 >= len(rest):
                parser.error(f"flag {item} needs a value")
            dotlist.append(f"{item[2:]}={rest[i + 1]}")
            i += 1
        elif "=" in item:
            dotlist.append(item)
        else:
            parser.error(f"unrecognised argument {item!r} (overrides are key=value or --key value)")
        i += 1
    return args, dotlist


def main(argv: Optional[List[str]] = None) -> int:
    try:
        args, dotlist = _parse(sys.argv[1:] if argv is None else argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors
        return int(exc.code or 0)
    try:
        path = resolve_design(args.path)
    except FileNotFoundError:
        path = Path(args.path)
    if not (path.is_dir() or (path.is_file() and path.suffix == ".py")):
        print(f"error: {path} is not a unit .py file or a design folder", file=sys.stderr)
        return 2
    try:
        load_config(dotlist)  # usage errors surface before torch is imported
    except ConfigError as exc:
        print(f"error: bad override: {exc}", file=sys.stderr)
        return 2
    from genesys.checker.api import check  # imports torch (seconds): only once the arguments are good
    report = check(path, dotlist=tuple(dotlist))
    if args.fixed_out and report.fixed_sources:
        out = Path(args.fixed_out)
        out.mkdir(parents=True, exist_ok=True)
        for name, source in report.fixed_sources.items():
            (out / Path(name).name).write_text(source)
    print(report.to_json() if args.json else report.to_text())
    return 0 if report.valid else 1
