"""The report's figures (matplotlib, Agg backend: no display needed), each written as PNG and SVG.

Every function takes plain values and writes ``<out>/<stem>.png`` and ``.svg``; ``run_plots`` draws all four from a
RunData. A figure with nothing to show (no fitness measured yet) is skipped rather than drawn empty.
"""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import colors as mcolors  # noqa: E402

from genesys.report.metrics import CurvePoint  # noqa: E402

FORMATS = ("png", "svg")


def save(fig, out: Path, stem: str) -> List[Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in FORMATS:
        path = out / f"{stem}.{fmt}"
        fig.savefig(path, format=fmt, dpi=120, bbox_inches="tight", metadata={"Date": None} if fmt == "svg" else None)
        paths.append(path)
    plt.close(fig)
    return paths


def fitness_curve(curve: Sequence[CurvePoint], design_fitness: Sequence[Optional[float]],
                  seed_fitness: Mapping[str, float], out: Path, top: int, stem: str = "fitness") -> List[Path]:
    """The population curve over the design sequence, each design's own fitness as a dot at its index, and one
    dashed reference line per seed."""
    fig, ax = plt.subplots(figsize=(8, 4.5))
    xs = [i + 1 for i, f in enumerate(design_fitness) if f is not None]
    ax.scatter(xs, [f for f in design_fitness if f is not None], s=12, color="0.6", label="design", zorder=2)
    ax.plot([p.t for p in curve], [p.value for p in curve], marker="o", color="C0", lw=2, zorder=3,
            label=f"population (best {top})")
    for i, (name, f) in enumerate(sorted(seed_fitness.items(), key=lambda kv: -kv[1])):
        ax.axhline(f, ls="--", lw=1, color=f"C{(i + 1) % 10}", label=f"seed {name}", zorder=1)
    ax.set_xlabel("designs made")
    ax.set_ylabel("fitness")
    ax.set_title("Population fitness over the design sequence")
    ax.legend(fontsize=8, loc="best")
    ax.grid(alpha=0.3)
    return save(fig, out, stem)


def tree_layout(nodes: Sequence[dict]) -> Dict[str, tuple]:
    """{name: (x, layer)}: seeds on layer 0, a child one layer below its deepest parent; within a layer, nodes sit in
    the order of their parents' mean x (fewer crossings), then by insertion order."""
    layer: Dict[str, int] = {}
    for n in nodes:   # insertion order: parents come first
        known = [layer[p] for p in n.get("parents") or [] if p in layer]
        layer[n["name"]] = 1 + max(known) if known else 0
    rows: Dict[int, List[dict]] = defaultdict(list)
    for n in nodes:
        rows[layer[n["name"]]].append(n)
    pos: Dict[str, tuple] = {}
    for depth in sorted(rows):
        def key(item):
            i, n = item
            xs = [pos[p][0] for p in n.get("parents") or [] if p in pos]
            return (sum(xs) / len(xs) if xs else -1.0, i)
        ordered = [n for _, n in sorted(enumerate(rows[depth]), key=key)]
        width = len(ordered)
        for i, n in enumerate(ordered):
            pos[n["name"]] = ((i + 0.5) / width, depth)
    return pos


def evolution_tree(nodes: Sequence[dict], fitness: Mapping[str, float], confidence: Mapping[str, float], out: Path,
                   stem: str = "tree") -> List[Path]:
    """Parents -> children, layered; colour = fitness (grey: not measured), size = confidence, seeds squared."""
    pos = tree_layout(nodes)
    depth = max((y for _, y in pos.values()), default=0)
    fig, ax = plt.subplots(figsize=(9, 1.6 + 1.1 * (depth + 1)))
    for n in nodes:
        for p in n.get("parents") or []:
            if p in pos:
                (x0, y0), (x1, y1) = pos[p], pos[n["name"]]
                ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                            arrowprops=dict(arrowstyle="-|>", color="0.55", lw=0.7, shrinkA=6, shrinkB=6))
    known = [fitness[n["name"]] for n in nodes if fitness.get(n["name"]) is not None]
    norm = mcolors.Normalize(min(known), max(known)) if known else None
    cmap = plt.get_cmap("viridis")
    for seed in (True, False):
        group = [n for n in nodes if bool(n.get("is_seed")) == seed]
        if not group:
            continue
        ax.scatter([pos[n["name"]][0] for n in group], [pos[n["name"]][1] for n in group],
                   s=[30 + 25 * float(confidence.get(n["name"]) or 0) for n in group],
                   c=[cmap(norm(fitness[n["name"]])) if norm and fitness.get(n["name"]) is not None else "0.8"
                      for n in group],
                   marker="s" if seed else "o", edgecolors="k", linewidths=0.5, zorder=3,
                   label="seed" if seed else "design")
    if norm is not None:
        fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, label="fitness", fraction=0.04)
    ax.set_ylim(depth + 0.6, -0.6)
    ax.set_xlim(0, 1)
    ax.set_xticks([])
    ax.set_ylabel("generation")
    ax.set_yticks(range(depth + 1))
    ax.set_title("Evolution tree (size: confidence)")
    ax.legend(fontsize=8, loc="upper right")
    return save(fig, out, stem)


def ladder_pyramid(counts: Mapping[str, Mapping[str, int]], rungs: Sequence[str], out: Path,
                   stem: str = "ladder") -> List[Path]:
    """Designs verified at each rung (cheapest at the bottom), centred bars: done, and failed beside them."""
    fig, ax = plt.subplots(figsize=(7, 0.8 + 0.7 * len(rungs)))
    for y, rung in enumerate(rungs):
        done, failed = counts.get(rung, {}).get("done", 0), counts.get(rung, {}).get("failed", 0)
        total = done + failed
        ax.barh(y, done, left=-total / 2, color="C0", label="verified" if y == 0 else None)
        ax.barh(y, failed, left=-total / 2 + done, color="C3", label="failed" if y == 0 else None)
        ax.text(total / 2 + 0.1, y, f"{done}" + (f" (+{failed} failed)" if failed else ""), va="center", fontsize=9)
    width = max((sum(c.values()) for c in counts.values()), default=1) or 1
    ax.set_xlim(-width / 2 - 0.5, width / 2 + 0.25 * width + 1.5)
    ax.set_yticks(range(len(rungs)), list(rungs))
    ax.set_xticks([])
    ax.set_title("Ladder: designs verified per rung")
    ax.legend(fontsize=8, loc="upper right")
    return save(fig, out, stem)


def task_heatmap(rows: Sequence[str], columns: Sequence[str], values: Sequence[Sequence[Optional[float]]],
                 n_seeds: int, out: Path, stem: str = "heatmap") -> List[Path]:
    """Normalised score per design (rows: the seeds first, then the top designs) and task (columns: rung:task);
    colour = the score minus the seeds' mean on that task (blue: better than the seeds), text = the score."""
    import numpy as np
    grid = np.array([[np.nan if v is None else v for v in row] for row in values], dtype=float)
    base = np.nanmean(grid[:n_seeds], axis=0) if n_seeds and not np.all(np.isnan(grid[:n_seeds])) \
        else np.zeros(len(columns))
    diff = grid - np.nan_to_num(base)
    span = float(np.nanmax(np.abs(diff))) if np.any(~np.isnan(diff)) else 1.0
    fig, ax = plt.subplots(figsize=(1.6 + 1.1 * len(columns), 1.0 + 0.42 * len(rows)))
    image = ax.imshow(np.ma.masked_invalid(diff), cmap="RdBu", vmin=-span or -1, vmax=span or 1, aspect="auto")
    for i in range(len(rows)):
        for j in range(len(columns)):
            if not np.isnan(grid[i, j]):
                ax.text(j, i, f"{grid[i, j]:.3f}", ha="center", va="center", fontsize=7)
    if 0 < n_seeds < len(rows):
        ax.axhline(n_seeds - 0.5, color="k", lw=1.5)
    ax.set_xticks(range(len(columns)), list(columns), rotation=30, ha="right", fontsize=8)
    ax.set_yticks(range(len(rows)), [r if len(r) <= 40 else r[:37] + "..." for r in rows], fontsize=8)
    fig.colorbar(image, ax=ax, label="score − seeds' mean", fraction=0.04)
    ax.set_title("Normalised score per task: seeds (top) and the best designs")
    return save(fig, out, stem)


def heatmap_table(scores, names: Sequence[str]) -> tuple:
    """(columns, values): each design's normalised score per rung:task, the mean over metrics of that task."""
    cells: Dict[tuple, List[float]] = defaultdict(list)
    for s in scores:
        cells[(s.design, f"{s.scale}:{s.task}")].append(s.normalised)
    columns = sorted({c for _, c in cells})
    values = [[(sum(cells[(n, c)]) / len(cells[(n, c)])) if cells.get((n, c)) else None for c in columns]
              for n in names]
    return columns, values


def run_plots(run, out: Path, top: int = 50, every: int = 10, heat_top: int = 10) -> Dict[str, List[Path]]:
    """All four figures for a RunData into ``out``; {figure: [png, svg]} for those that had something to show."""
    from genesys.report.metrics import population_curve
    made: Dict[str, List[Path]] = {}
    curve = population_curve(run.order, run.fitness, top=top, every=every, seeds=run.seeds)
    if curve:
        made["fitness"] = fitness_curve(curve, [run.fitness.get(n) for n in run.order],
                                        {s: run.fitness[s] for s in run.seeds if s in run.fitness}, out, top)
    nodes = [{"name": d.name, "parents": d.parents, "is_seed": d.is_seed} for d in run.designs]
    if nodes:
        made["tree"] = evolution_tree(nodes, run.fitness, run.confidence, out)
    counts: Dict[str, Dict[str, int]] = defaultdict(lambda: {"done": 0, "failed": 0})
    for v in run.verifications:
        if v.seed == 0 and v.status in ("done", "failed"):
            counts[v.rung][v.status] += 1
    rungs = [r for r in run.view.rungs if r in counts]
    if rungs:
        made["ladder"] = ladder_pyramid(counts, rungs, out)
    best = sorted((n for n in run.order if n in run.fitness), key=lambda n: -run.fitness[n])[:heat_top]
    names = run.seeds + best
    columns, values = heatmap_table(run.scores(), names)
    if columns and names:
        made["heatmap"] = task_heatmap(names, columns, values, len(run.seeds), out)
    return made
