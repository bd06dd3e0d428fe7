"""The quickstart pipeline: check each design in the sandbox, verify the valid ones in their own processes,
and tabulate the results. Design code never runs in this process: the checker runs it in a sandboxed child
and each verification is a `python -m genesys.verify` subprocess."""
from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional

from rich.console import Console
from rich.table import Table

from genesys.config import slug


@dataclass
class DesignResult:
    design: str
    check: Optional[dict] = None           # the checker's JSON report
    record: Optional[dict] = None          # the verification record
    error: Optional[str] = None
    notes: List[str] = field(default_factory=list)


def check_design(design: str) -> dict:
    from genesys.checker.api import check

    return check(design).to_dict()


def verify_design(design: str, scale: str, eval_name: str, run_dir: Path, overrides: List[str]) -> dict:
    """Pre-train and evaluate in a child process (streams its progress); returns the verification record."""
    cmd = [sys.executable, "-m", "genesys.verify", f"design={design}", f"scale={scale}", f"eval={eval_name}",
           f"hydra.run.dir={run_dir}", *overrides]
    proc = subprocess.run(cmd)
    record = run_dir / "record.json"
    if proc.returncode != 0 or not record.exists():
        raise RuntimeError(f"verification exited with code {proc.returncode}; see {run_dir}")
    return json.loads(record.read_text())


def run(cfg, scale: str, eval_name: str, out_dir: Path, console: Console) -> List[DesignResult]:
    results = []
    for design in cfg.designs:
        result = DesignResult(design)
        results.append(result)
        if cfg.check:
            console.rule(f"[b]check[/b] {design}")
            result.check = check_design(design)
            verdict = "valid" if result.check["valid"] else "INVALID"
            console.print(f"{verdict}: {len(result.check['errors'])} errors, {len(result.check['warnings'])} warnings "
                          f"in {result.check['timings'].get('total', 0):.1f}s")
            for finding in result.check["errors"] + result.check["warnings"]:
                console.print(f"  [{finding['category']}] {finding['check']}: {finding['message']}")
            if not result.check["valid"]:
                result.error = "failed the checker"
                continue
        console.rule(f"[b]verify[/b] {design} at {scale}")
        try:
            result.record = verify_design(design, scale, eval_name, out_dir / slug(design), list(cfg.verify_overrides))
        except RuntimeError as exc:
            result.error = str(exc)
    return results


def _eval_summary(record: dict) -> str:
    """The evaluation tables of a record ({"local"|"paper"|"proxy": {task: {metric, <metric>: value}}}) in one cell."""
    ev = record.get("eval") or {}
    parts = []
    for section in ("local", "paper", "proxy"):
        for task, row in sorted((ev.get(section) or {}).items()):
            metric = row.get("metric")
            if metric and isinstance(row.get(metric), (int, float)):
                parts.append(f"{task} {row[metric]:.3f}")
    return "\n".join(parts) or "—"


def summary_table(results: List[DesignResult], scale: str) -> Table:
    table = Table(title=f"Quickstart results (scale {scale})")
    for col in ("design", "check", "params", "val loss", "unigram", "bits/byte", "stop", "evaluation"):
        table.add_column(col)
    for r in results:
        check = "—" if r.check is None else ("valid" if r.check["valid"] else "invalid")
        if r.check and r.check["warnings"]:
            check += f" ({len(r.check['warnings'])} warn)"
        rec = r.record
        if rec is None:
            table.add_row(r.design, check, "", "", "", "", r.error or "", "")
            continue
        fmt = lambda x: "—" if x is None else f"{x:.3f}"  # noqa: E731
        params = rec["params"].get("total") or rec["params"].get("non_embedding")
        size = "—" if params is None else f"{params / 1e6:.2f}M" + ("" if rec["params"].get("total") else " (non-emb.)")
        table.add_row(r.design, check, size, fmt(rec["val_loss"]),
                      fmt(rec["unigram_val_loss"]), fmt(rec["val_bits_per_byte"]), rec["stop_reason"],
                      _eval_summary(rec))
    return table
