"""The evolution's figures (matplotlib, Agg; PNG and SVG): the population fitness curve with the seeds as reference
lines, the evolution tree, the ladder pyramid and a heat map of the top designs against the seeds per task."""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Optional, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from genesys.report.metrics import population_curve  # noqa: E402


def _save(fig, out: Path, name: str) -> List[Path]:
    paths = [out / f"{name}.png", out / f"{name}.svg"]
    for p in paths:
        fig.savefig(p, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return paths


def fitness_curve(board: Sequence[dict], out: Path, population: int = 5) -> List[Path]:
    seeds = [e for e in board if e["is_seed"]]
    designs = sorted([e for e in board if not e["is_seed"]], key=lambda e: e.get("created") or e["name"])
    curve = population_curve([e["fitness"] for e in seeds], [e["fitness"] for e in designs], population)
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(range(len(curve)), curve, marker="o", label=f"population (best {population}) mean fitness")
    for e in seeds:
        if e["fitness"] is not None:
            ax.axhline(e["fitness"], ls="--", lw=0.8, color="grey")
            ax.annotate(e["name"], (0, e["fitness"]), fontsize=7, color="grey")
    ax.set_xlabel("designs made")
    ax.set_ylabel("fitness")
    ax.legend(loc="lower right", fontsize=8)
    return _save(fig, out, "fitness_curve")


def _depths(board: Sequence[dict]) -> Dict[str, int]:
    by_name = {e["name"]: e for e in board}
    depth: Dict[str, int] = {}

    def of(name: str, seen=()) -> int:
        if name in depth:
            return depth[name]
        parents = [p for p in by_name.get(name, {}).get("parents") or [] if p in by_name and p not in seen]
        depth[name] = 0 if not parents else 1 + max(of(p, seen + (name,)) for p in parents)
        return depth[name]
    for e in board:
        of(e["name"])
    return depth


def evolution_tree(board: Sequence[dict], out: Path) -> List[Path]:
    depth = _depths(board)
    layers: Dict[int, List[str]] = {}
    for name in sorted(depth, key=lambda n: (depth[n], n)):
        layers.setdefault(depth[name], []).append(name)
    pos = {n: (i - (len(ns) - 1) / 2, -d) for d, ns in layers.items() for i, n in enumerate(ns)}
    by_name = {e["name"]: e for e in board}
    fig, ax = plt.subplots(figsize=(max(6, 1.2 * max(len(v) for v in layers.values())), 1.6 * (len(layers) + 1)))
    for e in board:
        for p in e.get("parents") or []:
            if p in pos:
                ax.plot([pos[p][0], pos[e["name"]][0]], [pos[p][1], pos[e["name"]][1]], color="lightgrey", zorder=1)
    names = list(pos)
    fitness = [by_name[n]["fitness"] if by_name[n]["fitness"] is not None else float("nan") for n in names]
    sizes = [60 + 40 * (by_name[n].get("confidence") or 0) for n in names]
    points = ax.scatter([pos[n][0] for n in names], [pos[n][1] for n in names], c=fitness, s=sizes, cmap="viridis",
                        zorder=2, edgecolors="black")
    for n in names:
        ax.annotate(n, pos[n], fontsize=7, ha="center", va="bottom", xytext=(0, 8), textcoords="offset points")
    fig.colorbar(points, ax=ax, label="fitness")
    ax.set_axis_off()
    return _save(fig, out, "evolution_tree")


def ladder_pyramid(board: Sequence[dict], rungs: Sequence[str], out: Path) -> List[Path]:
    counts = [sum(r in (e.get("rungs") or []) for e in board) for r in rungs]
    fig, ax = plt.subplots(figsize=(6, 0.6 * len(rungs) + 1.5))
    ax.barh(range(len(rungs)), counts, left=[-c / 2 for c in counts], color="tab:blue")
    for i, c in enumerate(counts):
        ax.annotate(str(c), (0, i), ha="center", va="center", color="white", fontsize=9)
    ax.set_yticks(range(len(rungs)), labels=list(rungs))
    ax.set_xticks([])
    ax.set_title("designs verified per rung")
    return _save(fig, out, "ladder_pyramid")


def task_heatmap(rows: Dict[str, Dict[str, Optional[float]]], out: Path) -> List[Path]:
    """rows: design -> {task: score}; the top designs and the seeds."""
    designs = list(rows)
    tasks = sorted({t for r in rows.values() for t in r})
    fig, ax = plt.subplots(figsize=(1 + 0.9 * max(1, len(tasks)), 0.45 * len(designs) + 1.5))
    values = [[rows[d].get(t) if rows[d].get(t) is not None else float("nan") for t in tasks] for d in designs]
    image = ax.imshow(values, aspect="auto", cmap="magma")
    ax.set_xticks(range(len(tasks)), labels=tasks, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(designs)), labels=designs, fontsize=8)
    fig.colorbar(image, ax=ax, label="score")
    return _save(fig, out, "task_heatmap")
