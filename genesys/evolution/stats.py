"""What a run measured about itself, beside the leaderboard (summary.json): each rung's noise (one design verified
with several training seeds) and each symbolic operator's yield (children, share valid, fitness of its designs).
Pure functions over plain rows."""
from __future__ import annotations

from collections import defaultdict
from statistics import mean
from typing import Dict, Iterable, List, Mapping, Optional

from genesys.evolution.scoring import noise_spread, seed_fitness_spread


def headline(record: dict) -> Optional[dict]:
    """The number a rung is judged by: the final val loss on LM rungs, the proxy suite's mean score at rung 0."""
    if record.get("val_loss") is not None:
        return {"metric": "val_loss", "value": float(record["val_loss"])}
    table = (record.get("eval") or {}).get("proxy") or {}
    scores = [row[row["metric"]] for row in table.values() if row.get("metric") in row]
    return {"metric": "proxy_mean", "value": float(mean(scores))} if scores else None


def rung_noise(records: List[dict], population: Iterable[dict] = ()) -> Dict[str, Dict[str, dict]]:
    """{rung: {design: {metric, seeds, values, spread, fitness_spread}}} for every (design, rung) verified with more
    than one seed. records: dicts with "design", "scale" (the rung), "config"["seed"] and the record's fields."""
    groups: Dict[tuple, List[dict]] = defaultdict(list)
    for r in records:
        groups[(r["design"], r["scale"])].append(r)
    population = list(population)
    out: Dict[str, Dict[str, dict]] = defaultdict(dict)
    for (design, rung), recs in sorted(groups.items()):
        if len(recs) < 2:
            continue
        recs = sorted(recs, key=lambda r: (r.get("config") or {}).get("seed", 0))
        heads = [headline(r) for r in recs]
        metric = next((h["metric"] for h in heads if h), None)
        values = [h["value"] if h else None for h in heads]
        out[rung][design] = {"metric": metric, "seeds": [(r.get("config") or {}).get("seed") for r in recs],
                             "values": values, "spread": noise_spread(values),
                             "fitness_spread": seed_fitness_spread(recs, population)}
    return dict(out)


def operator_stats(attempts: Iterable[Mapping], designs: Iterable[Mapping], fitness: Mapping[str, float],
                   parent_fitness: Optional[Mapping[str, Optional[float]]] = None) -> Dict[str, dict]:
    """{operator: {attempts, valid, valid_share, designs, mean_fitness, mean_gain}}. attempts: {"operator", "valid"};
    designs: {"name", "operator", "parents"} of stored designs; gain = fitness - the best parent's fitness."""
    stats: Dict[str, dict] = defaultdict(lambda: {"attempts": 0, "valid": 0, "designs": 0, "fitness": [], "gain": []})
    for a in attempts:
        s = stats[a["operator"]]
        s["attempts"] += 1
        s["valid"] += bool(a["valid"])
    for d in designs:
        if not d.get("operator"):
            continue
        s = stats[d["operator"]]
        s["designs"] += 1
        f = fitness.get(d["name"])
        if f is not None:
            s["fitness"].append(f)
            parents = [fitness.get(p) for p in d.get("parents") or []]
            parents = [p for p in parents if p is not None]
            if parents:
                s["gain"].append(f - max(parents))
    return {op: {"attempts": s["attempts"], "valid": s["valid"],
                 "valid_share": s["valid"] / s["attempts"] if s["attempts"] else None, "designs": s["designs"],
                 "mean_fitness": mean(s["fitness"]) if s["fitness"] else None,
                 "mean_gain": mean(s["gain"]) if s["gain"] else None}
            for op, s in sorted(stats.items())}
