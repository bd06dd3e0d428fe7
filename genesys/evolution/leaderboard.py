"""Leaderboard entries (leaderboard.json in the run folder): one per design, best fitness first.

Plain inputs, plain output: the orchestrator reads designs and records from the store and writes the JSON; this
module only decides what an entry holds and the order. Designs without a fitness come last (by name): they were not
measured, which is not the same as measured badly.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Dict, Iterable, List, Mapping, Optional, Sequence

from genesys.evolution.population import Candidate


def leaderboard_entries(designs: Iterable[Candidate], verifications: Iterable[dict],
                        fitness: Mapping[str, float], confidence: Mapping[str, float],
                        rungs: Optional[Sequence[str]] = None) -> List[dict]:
    """designs: the population. verifications: record dicts (VerificationRecord.to_dict(), or any dict with
    "design", "scale", "stop_reason" and optionally "params"; a verification that produced no record can be passed
    as {"design", "scale", "stop_reason": "<why>"}). fitness, confidence: {name: value} (absent = unknown).
    rungs: the ladder, cheapest first, to order each entry's rungs (default: the order the records came in).

    Entry: rank, name, is_seed, parents, mode, fitness (None if unknown), confidence, rungs (verified, ladder
    order), params {rung: params of its first record}, stop_reasons {rung: [one per record]}, failed."""
    order = {r: i for i, r in enumerate(rungs or ())}
    params: Dict[str, Dict[str, dict]] = defaultdict(dict)
    stops: Dict[str, Dict[str, List[str]]] = defaultdict(lambda: defaultdict(list))
    for v in verifications:
        name, rung = v["design"], v["scale"]
        if v.get("params") is not None and rung not in params[name]:
            params[name][rung] = v["params"]
        if v.get("stop_reason") is not None:
            stops[name][rung].append(v["stop_reason"])

    def rung_key(rung: str):
        return (order.get(rung, len(order)), rung) if order else (0, "")

    entries = []
    for d in designs:
        f = fitness.get(d.name)
        entries.append({
            "name": d.name, "is_seed": d.is_seed, "parents": list(d.parents),
            "mode": d.mode or ("seed" if d.is_seed else None),
            "fitness": None if f is None else float(f),
            "confidence": confidence.get(d.name),
            "rungs": sorted(set(d.verified), key=rung_key),
            "params": {r: params[d.name][r] for r in sorted(params.get(d.name, {}), key=rung_key)},
            "stop_reasons": {r: list(stops[d.name][r]) for r in sorted(stops.get(d.name, {}), key=rung_key)},
            "failed": d.failed,
        })
    entries.sort(key=lambda e: (e["fitness"] is None, -(e["fitness"] or 0.0), e["name"]))
    for i, e in enumerate(entries):
        e["rank"] = i + 1
    return [{"rank": e.pop("rank"), **e} for e in entries]
