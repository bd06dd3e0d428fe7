"""The HTML report: one self-contained folder (index.html, a page per design, plots/, metrics.json, leaderboard.json)
that opens from the file system with relative links only: no server, no CDN.

Design names, proposals, code and checker messages may come from an LLM: every value goes through Jinja's
autoescaping, and a design's page name is a sanitised slug plus a hash of its name, so no name can reach outside
the report folder or collide with another.
"""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Dict, Optional

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from genesys.report.plots import run_plots
from genesys.report.summary import run_metrics

TEMPLATES = Path(__file__).parent / "templates"
PLOT_CAPTIONS = {"fitness": "Population fitness over the design sequence", "tree": "Evolution tree",
                 "ladder": "Designs verified per rung", "heatmap": "Top designs against the seeds per task"}
COLUMNS = [("rank", "#", "num"), ("name", "design", "text"), ("mode", "mode", "text"), ("parents", "parents", "text"),
           ("fitness", "fitness", "num"), ("confidence", "confidence", "num"), ("rungs", "rungs", "text"),
           ("failed", "failed", "text")]


def slug(name: str) -> str:
    """A file name for a design's page: safe characters only (no separators, no leading dot), then a hash of the
    full name so two names that sanitise alike stay apart."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._-")[:60] or "design"
    return f"{safe}-{hashlib.sha256(name.encode()).hexdigest()[:8]}.html"


def _num(value, digits: int = 4) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _pct(value) -> str:
    return "—" if value is None else f"{100 * value:.1f} %"


def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = _num
    env.filters["pct"] = _pct
    return env


def _tree_view(tree: dict) -> str:
    from genesys.gau import GAUTree
    try:
        return GAUTree.from_dict(tree).view()
    except Exception as exc:   # a stored tree this version cannot read: say so, keep the rest of the page
        return f"(unit tree unreadable: {type(exc).__name__}: {exc})"


def _scores(record: dict) -> list:
    out = []
    for kind, table in ((record.get("eval") or {}).items()):
        if isinstance(table, dict):
            for task, row in table.items():
                if isinstance(row, dict) and row.get("metric") in row:
                    out.append((f"{task} ({row['metric']})", row[row["metric"]]))
    return out


def _verification(v) -> dict:
    rec = v.record or {}
    return {"rung": v.rung, "seed": v.seed, "status": v.status, "stop_reason": v.stop_reason, "attempts": v.attempts,
            "val_loss": rec.get("val_loss"), "unigram": rec.get("unigram_val_loss"), "scores": _scores(rec),
            "error": v.error, "record_json": json.dumps(rec, indent=1, default=str) if rec else None}


def write_report(run, out: Path, top: int = 50, every: int = 10) -> Path:
    """Write the report of a RunData into ``out``; returns index.html's path."""
    out = Path(out)
    (out / "designs").mkdir(parents=True, exist_ok=True)
    env = environment()
    pages: Dict[str, str] = {d.name: slug(d.name) for d in run.designs}
    made = run_plots(run, out / "plots", top=top, every=every)
    m = run_metrics(run, top=top, every=every)
    (out / "metrics.json").write_text(json.dumps(m, indent=2, default=str))
    (out / "leaderboard.json").write_text(json.dumps(run.leaderboard, indent=2, default=str))

    def link(name: str, prefix: str) -> Optional[dict]:
        return {"name": name, "href": prefix + pages[name]} if name in pages else {"name": name, "href": "#"}

    entries = [{**e, "href": "designs/" + pages[e["name"]],
                "parent_links": [link(p, "designs/") for p in e["parents"]]} for e in run.leaderboard]
    index = env.get_template("index.html").render(
        title=run.title, store_url=run.store_url, m=m, entries=entries, columns=COLUMNS, noise=run.noise,
        plots=[(k, PLOT_CAPTIONS[k]) for k in PLOT_CAPTIONS if k in made], n_designs=len(run.designs),
        n_seeds=len(run.seeds), n_done=sum(v.status == "done" for v in run.verifications))
    (out / "index.html").write_text(index, encoding="utf-8")

    children: Dict[str, list] = {}
    for d in run.designs:
        for p in d.parents:
            children.setdefault(p, []).append(d.name)
    template = env.get_template("design.html")
    for d in run.designs:
        page = template.render(
            d=d, parents=[link(p, "") for p in d.parents], children=[link(c, "") for c in children.get(d.name, [])],
            fitness=run.fitness.get(d.name), confidence=run.confidence.get(d.name), tree_view=_tree_view(d.tree),
            report=d.checker_report,
            report_json=json.dumps(d.checker_report, indent=1, default=str) if d.checker_report else None,
            verifications=[_verification(v) for v in run.verifications if v.design == d.name])
        (out / "designs" / pages[d.name]).write_text(page, encoding="utf-8")
    return out / "index.html"
