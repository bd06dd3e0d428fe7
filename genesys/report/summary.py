"""The run's scorecard: the metrics of genesys.report.metrics computed on one RunData (what index.html shows and
metrics.json holds). Turns store rows and events into the plain inputs the metric functions take."""
from __future__ import annotations

from dataclasses import asdict
from typing import Dict, List

from genesys.report import metrics


def designer_kind(config: dict) -> str:
    """A designer session's kind: its config's ``kind`` (llm), else the designer class's module (symbolic)."""
    node = (config or {}).get("designer") or {}
    if node.get("kind"):
        return str(node["kind"])
    target = str(node.get("_target_") or "unknown")
    parts = target.split(".")
    return parts[-2] if len(parts) >= 2 else target


def design_requests(run) -> List[dict]:
    """One entry per finished design request (a design stored, none made, or a duplicate lost to a race), with its
    designer kind, attempts and cost, from the run's events."""
    kinds = {s.id: designer_kind(s.config) for s in run.sessions if s.kind == "designer"}
    attempts: Dict[tuple, int] = {}
    for e in run.events:
        if e.kind == "attempt":
            key = (e.session_id, e.payload.get("ticket"))
            attempts[key] = attempts.get(key, 0) + 1
    costs = {d.name: (d.meta or {}).get("cost_usd") for d in run.designs}
    out = []
    for e in run.events:
        if e.kind not in ("design", "design_none", "duplicate"):
            continue
        key = (e.session_id, e.payload.get("ticket"))
        n = attempts.get(key, e.payload.get("attempts"))
        out.append({"designer": kinds.get(e.session_id, "unknown"), "valid": e.kind == "design", "attempts": n,
                    "cost_usd": costs.get(e.payload.get("name")) if e.kind == "design" else None})
    return out


def run_metrics(run, top: int = 50, every: int = 10) -> dict:
    """{curve, curve_online, metrics, metrics_online, error_rate, designers, operators, noise, parameters}."""
    curve = metrics.population_curve(run.order, run.fitness, top=top, every=every, seeds=run.seeds)
    online = metrics.population_curve(run.order, run.online_fitness, top=top, every=every, seeds=run.seeds)
    new = set(run.order)
    checks = [{"design": v.design, "status": v.status, "attempts": v.attempts, "stop_reason": v.stop_reason}
              for v in run.verifications if v.design in new]
    attempts = [e.payload for e in run.events if e.kind == "attempt" and e.payload.get("operator")]
    designs = [{"name": d.name, "operator": d.operator, "parents": d.parents} for d in run.designs]
    return {
        "parameters": {"top": top, "every": every, "fitness": run.view.selection.get("fitness", "eq1"),
                       "designs": len(run.order), "seeds": len(run.seeds)},
        "curve": [asdict(p) for p in curve],
        "curve_online": [asdict(p) for p in online],
        "metrics": metrics.curve_metrics([p.value for p in curve]),
        "metrics_online": metrics.curve_metrics([p.value for p in online]),
        "error_rate": metrics.verification_error_rate(checks),
        "designers": metrics.designer_stats(design_requests(run)),
        "operators": metrics.operator_table(attempts, designs, run.fitness),
        "noise": run.noise,
    }
