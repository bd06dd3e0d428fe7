"""`python -m genesys.report RUN_FOLDER`: one self-contained folder (index.html with a sortable leaderboard and the
figures, a page per design with its unit tree, proposal, code, checker report and verification results), readable
from disk without a server: relative links only, no scripts or styles from elsewhere, everything escaped (design
names, proposals and code can come from LLM output)."""
from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Dict, List, Optional

from genesys.evolution.workers import safe_design_name
from genesys.gau import GAUTree
from genesys.report import plots
from genesys.report.metrics import curve_metrics, error_rate, population_curve

STYLE = """body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}th{cursor:pointer;background:#f3f3f3}
pre{background:#f7f7f7;padding:1em;overflow:auto;font-size:12px}img{max-width:100%}.err{color:#b00}"""
SORT_JS = """document.querySelectorAll('table.sortable th').forEach((th,i)=>th.addEventListener('click',()=>{
const tb=th.closest('table').tBodies[0];const rows=[...tb.rows];const asc=th.dataset.asc!=='1';th.dataset.asc=asc?'1':'0';
const key=r=>{const t=r.cells[i].innerText;const n=parseFloat(t);return isNaN(n)?t:n};
rows.sort((a,b)=>{const x=key(a),y=key(b);return (x>y?1:x<y?-1:0)*(asc?1:-1)});rows.forEach(r=>tb.appendChild(r))}));"""


def page(title: str, body: str, script: str = "") -> str:
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title><style>{STYLE}</style>"
            f"</head><body>{body}{f'<script>{script}</script>' if script else ''}</body></html>")


def design_href(name: str) -> str:
    return f"designs/{safe_design_name(name)}.html"


def _fmt(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4f}"
    return escape(str(value))


def leaderboard_table(board: List[dict]) -> str:
    head = "".join(f"<th>{h}</th>" for h in ("rank", "name", "mode", "parents", "fitness", "confidence", "rungs"))
    rows = []
    for e in board:
        parents = ", ".join(f"<a href='{design_href(p)}'>{escape(p)}</a>" for p in e.get("parents") or [])
        rows.append(f"<tr><td>{e['rank']}</td><td><a href='{design_href(e['name'])}'>{escape(e['name'])}</a></td>"
                    f"<td>{escape(e.get('mode') or '')}</td><td>{parents}</td><td>{_fmt(e.get('fitness'))}</td>"
                    f"<td>{_fmt(e.get('confidence'))}</td><td>{escape(', '.join(e.get('rungs') or []))}</td></tr>")
    return f"<table class='sortable' id='leaderboard'><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def proxy_scores(verifications) -> Dict[str, Dict[str, Optional[float]]]:
    scores: Dict[str, Dict[str, Optional[float]]] = {}
    for v in verifications:
        if v.status == "done" and v.seed == 0 and v.record:
            for task, row in ((v.record.get("eval") or {}).get("proxy") or {}).items():
                scores.setdefault(v.design, {})[task] = row.get("accuracy")
    return scores


def design_page(row, verifications, board_entry: Optional[dict]) -> str:
    tree = GAUTree.from_dict(row.tree)
    checks = row.checker_report or {}
    findings = "".join(f"<li class='err'>[{escape(f.get('category', ''))}] {escape(f.get('message', ''))}</li>"
                       for f in checks.get("errors", [])) + \
        "".join(f"<li>[{escape(f.get('category', ''))}] {escape(f.get('message', ''))}</li>"
                for f in checks.get("warnings", []))
    runs = "".join(
        f"<tr><td>{escape(v.rung)}</td><td>{v.seed}</td><td>{escape(v.status)}</td>"
        f"<td>{_fmt((v.record or {}).get('val_loss'))}</td><td>{_fmt((v.record or {}).get('steps'))}</td>"
        f"<td>{escape(v.stop_reason or v.error or '')}</td></tr>" for v in verifications)
    parents = ", ".join(f"<a href='{safe_design_name(p)}.html'>{escape(p)}</a>" for p in row.parents) or "none"
    body = (f"<p><a href='../index.html'>← leaderboard</a></p><h1>{escape(row.name)}</h1>"
            f"<p>mode {escape(row.mode)} · operator {escape(row.operator or '–')} · parents {parents} · fitness "
            f"{_fmt((board_entry or {}).get('fitness'))} · confidence {_fmt((board_entry or {}).get('confidence'))}</p>"
            f"<h2>Unit tree</h2><pre>{escape(tree.view())}</pre>"
            f"<h2>Proposal</h2><pre>{escape(row.proposal or '–')}</pre>"
            + (f"<h2>Review</h2><pre>{escape(row.review)}</pre>" if row.review else "")
            + f"<h2>Verification</h2><table><tr><th>rung</th><th>seed</th><th>status</th><th>val loss</th>"
            f"<th>steps</th><th>stop</th></tr>{runs}</table>"
            f"<h2>Checker report</h2><p>valid: {escape(str(checks.get('valid', '–')))}</p><ul>{findings}</ul>"
            f"<h2>Code</h2><pre>{escape(row.code or '')}</pre>")
    return page(row.name, body)


def write_report(run_dir: Path, out: Optional[Path] = None) -> Path:
    from genesys.evolution.store import Store
    run_dir = Path(run_dir)
    out = Path(out or run_dir / "report")
    (out / "designs").mkdir(parents=True, exist_ok=True)
    (out / "figures").mkdir(exist_ok=True)
    board = json.loads((run_dir / "leaderboard.json").read_text())
    summary = json.loads((run_dir / "summary.json").read_text()) if (run_dir / "summary.json").exists() else {}
    store = Store.open(run_dir)
    try:
        designs = store.designs()
        verifications = store.verifications()
    finally:
        store.close()
    order = {d.name: i for i, d in enumerate(designs)}
    board = [dict(e, created=order.get(e["name"], 0)) for e in board]
    rungs = summary.get("rungs") or sorted({r for e in board for r in e.get("rungs") or []})
    plots.fitness_curve(board, out / "figures")
    plots.evolution_tree(board, out / "figures")
    plots.ladder_pyramid(board, rungs, out / "figures")
    scores = proxy_scores(verifications)
    top = [e["name"] for e in board if not e["is_seed"]][:8] + [e["name"] for e in board if e["is_seed"]]
    heat = {n: scores[n] for n in top if n in scores}
    figures = ["fitness_curve", "evolution_tree", "ladder_pyramid"]
    if heat:
        plots.task_heatmap(heat, out / "figures")
        figures.append("task_heatmap")
    by_name = {e["name"]: e for e in board}
    for row in designs:
        mine = [v for v in verifications if v.design == row.name]
        (out / design_href(row.name)).write_text(design_page(row, mine, by_name.get(row.name)))
    seeds = [e["fitness"] for e in board if e["is_seed"]]
    news = [e["fitness"] for e in sorted(board, key=lambda e: e["created"]) if not e["is_seed"]]
    m = curve_metrics(population_curve(seeds, news))
    rate = error_rate([v.status for v in verifications])
    stats = (f"<p>{len(designs)} designs ({len(news)} new), {len(verifications)} verifications, error rate "
             f"{_fmt(rate)}. Population fitness curve: Δ {_fmt(m.delta_pct)} %, Δmax {_fmt(m.delta_max_pct)} %, Sharpe "
             f"{_fmt(m.sharpe)}, max drawdown {_fmt(m.max_drawdown_pct)} %.</p>")
    imgs = "".join(f"<h3>{f.replace('_', ' ')}</h3><img src='figures/{f}.png' alt='{f}'>" for f in figures)
    body = (f"<h1>Genesys run {escape(run_dir.name)}</h1>{stats}<h2>Leaderboard</h2>{leaderboard_table(board)}"
            f"<h2>Figures</h2>{imgs}")
    (out / "index.html").write_text(page(f"Genesys run {run_dir.name}", body, SORT_JS))
    return out
