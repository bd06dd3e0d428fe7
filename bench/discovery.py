"""Discovery benchmark (issue 14): does selection find better designs than chance on the CPU ladder?

    python bench/discovery.py                       # 3 arms x seeds 1 2 3, 6 new designs each, written to BENCHMARKS.md
    python bench/discovery.py --designs 8 --seeds 1 2 3 4 --tag big -- eval=none   # extra overrides after --

Arms, each the real `python -m genesys` with the same budget (ladder, rungs, `stop.designs`) and a different
`seed=` per repeat:
- symbolic: the default evolution (fitness/confidence selection of parents and of what to verify next);
- random:   random search with the same operators: `selection.wo_exp=true` (parents uniform over all designs,
            verification order uniform; fitness is computed for the report but never read by selection);
- base:     `+experiment=base` (parents and the unit library only from the five seeds, nothing accumulated).

The five seed designs are verified once, in a shared run folder (their verification does not depend on the run's
seed: training seed 0 for everyone), together with noise repeats (the seeds again with training seed 1 at cpu_xs);
every arm run starts from a copy of that folder, so all arms compare against the same seed scores and the shared
cost is paid once. Per run: the population-fitness curve and the Table 2 metrics (genesys.report.summary), the
best new design's fitness and cpu_xs val loss against the best seed's, and the wall time. A run folder that already
holds a finished run (`summary.json` with the requested number of new designs) is reused, so a killed benchmark
resumes where it stopped.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]     # this checkout's genesys, whatever is installed
from child import run_measured  # noqa: E402
from report import machine, write_section  # noqa: E402
ARMS = {"symbolic": [], "random": ["selection.wo_exp=true"], "base": ["+experiment=base"]}
SEED_DESIGNS = ["gpt2", "mamba2", "retnet", "rwkv6", "ttt"]
LM_RUNG = "cpu_xs"


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(REPO), "WANDB_MODE": "offline", "HF_HUB_OFFLINE": "1",
            "HF_DATASETS_OFFLINE": "1", "LITELLM_LOCAL_MODEL_COST_MAP": "True"}


def run_genesys(run_dir: Path, overrides: Sequence[str], timeout_s: float, log: Path) -> dict:
    """One `python -m genesys` into run_dir; its wall time and the CPU time of all its (waited-for) descendants."""
    cmd = [sys.executable, "-m", "genesys", f"hydra.run.dir={run_dir}", *overrides]
    with open(log, "w") as out:
        done, wall, cpu = run_measured(cmd, cwd=REPO, env=_env(), stdout=out, stderr=subprocess.STDOUT,
                                       timeout=timeout_s)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {done.returncode}; see {log}")
    return {"wall_s": round(wall, 1), "cpu_s": round(cpu, 1)}


def finished(run_dir: Path, designs: int) -> bool:
    summary = run_dir / "summary.json"
    if not summary.exists():
        return False
    try:
        return json.loads(summary.read_text()).get("new_designs", -1) >= designs
    except ValueError:
        return False


def lm_losses(run) -> Dict[str, float]:
    """{design: final val loss at the LM rung}, training seed 0 (the one selection ranks by)."""
    return {v.design: v.record["val_loss"] for v in run.verifications
            if v.rung == LM_RUNG and v.seed == 0 and v.status == "done" and v.record and
            v.record.get("val_loss") is not None}


def measure(run_dir: Path, top: int, every: int) -> dict:
    """The Table 2 metrics of one finished run and how its best new design compares with the best seed."""
    from genesys.report.data import load_run
    from genesys.report.summary import run_metrics
    run = load_run(str(run_dir))
    m = run_metrics(run, top=top, every=every)
    seeds, new = set(run.seeds), run.order
    fit = run.fitness
    loss = lm_losses(run)
    best_seed_fit = max((fit[s] for s in seeds if fit.get(s) is not None), default=None)
    best_new_fit = max((fit[d] for d in new if fit.get(d) is not None), default=None)
    best_seed_loss = min((loss[s] for s in seeds if s in loss), default=None)
    new_losses = {d: loss[d] for d in new if d in loss}
    best_new = min(new_losses, key=new_losses.get) if new_losses else None
    return {"metrics": m["metrics"], "curve": [p["value"] for p in m["curve"]], "new_designs": len(new),
            "verified_new": len(new_losses), "best_seed_fitness": best_seed_fit, "best_new_fitness": best_new_fit,
            "best_seed_loss": best_seed_loss, "best_new": best_new,
            "best_new_loss": new_losses.get(best_new) if best_new else None,
            "noise": run.noise, "error_rate": m["error_rate"].get("rate")}


def _fmt(value: Optional[float]) -> str:
    return "—" if value is None else f"{value:.3f}"


def _mean_sd(values: List[Optional[float]]) -> str:
    values = [v for v in values if v is not None]
    if not values:
        return "—"
    if len(values) == 1:
        return f"{values[0]:.3f}"
    return f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}"


def noise_bars(seeds_dir: Path) -> Dict[str, Optional[float]]:
    """The LM rung's measured noise from the seeds' run: the largest spread of any seed design over training seeds,
    in val loss and in fitness (the orchestrator's own measurement, summary.json "noise")."""
    noise = (json.loads((seeds_dir / "summary.json").read_text()).get("noise") or {}).get(LM_RUNG) or {}
    loss = [n["spread"] for n in noise.values() if n.get("spread") is not None]
    fit = [n["fitness_spread"] for n in noise.values() if n.get("fitness_spread") is not None]
    return {"loss": max(loss) if loss else None, "fitness": max(fit) if fit else None}


def table(results: Dict[str, List[dict]], noise: Dict[str, Optional[float]]) -> str:
    rows = ["| arm | runs | Δ % | Δmax % | Sharpe | volatility | MDD % | best new fitness − best seed | "
            f"best new {LM_RUNG} loss − best seed (nats) | runs beating the best seed by > noise: fitness / loss | "
            "wall min / run |",
            "|---|---|---|---|---|---|---|---|---|---|---|"]
    for arm, runs in results.items():
        if not runs:
            continue
        get = lambda key: [r["metrics"].get(key) for r in runs]  # noqa: E731
        fit_gap = [None if r["best_new_fitness"] is None or r["best_seed_fitness"] is None
                   else r["best_new_fitness"] - r["best_seed_fitness"] for r in runs]
        loss_gap = [None if r["best_new_loss"] is None or r["best_seed_loss"] is None
                    else r["best_new_loss"] - r["best_seed_loss"] for r in runs]
        by_fit = sum(1 for g in fit_gap if g is not None and noise["fitness"] is not None and g > noise["fitness"])
        by_loss = sum(1 for g in loss_gap if g is not None and noise["loss"] is not None and g < -noise["loss"])
        rows.append(f"| {arm} | {len(runs)} | {_mean_sd(get('delta'))} | {_mean_sd(get('delta_max'))} | "
                    f"{_mean_sd(get('sharpe'))} | {_mean_sd(get('volatility'))} | {_mean_sd(get('max_drawdown'))} | "
                    f"{_mean_sd(fit_gap)} | {_mean_sd(loss_gap)} | {by_fit} / {by_loss} of {len(runs)} | "
                    f"{_mean_sd([r['wall_s'] / 60 for r in runs])} |")
    return "\n".join(rows)


def per_run(results: Dict[str, List[dict]]) -> str:
    lines = []
    for arm, runs in results.items():
        for r in runs:
            curve = " → ".join(f"{v:.3f}" for v in r["curve"])
            loss = f"{r['best_new_loss']:.3f} ({r['best_new']})" if r["best_new_loss"] is not None else "—"
            lines.append(f"- {arm} seed {r['seed']}: curve {curve}; best new {LM_RUNG} loss {loss} vs best seed "
                         f"{r['best_seed_loss']:.3f}; {r['verified_new']}/{r['new_designs']} new designs verified at "
                         f"{LM_RUNG}; {r['wall_s'] / 60:.1f} min wall, {r['cpu_s'] / 60:.1f} CPU-min")
    return "\n".join(lines)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--designs", type=int, default=6, help="new designs per run (stop.designs)")
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3], help="run seeds per arm")
    ap.add_argument("--arms", nargs="+", default=list(ARMS), choices=list(ARMS))
    ap.add_argument("--top", type=int, default=5, help="population size P of the fitness curve")
    ap.add_argument("--every", type=int, default=2, help="sample the curve every s designs")
    ap.add_argument("--tag", default="default")
    ap.add_argument("--root", type=Path, default=None, help="benchmark folder (default outputs/bench/discovery-TAG)")
    ap.add_argument("--timeout", type=float, default=3600, help="seconds per evolution run")
    ap.add_argument("--no-write", action="store_true", help="print only, leave BENCHMARKS.md alone")
    ap.add_argument("extra", nargs="*", help="overrides for every run (after --)")
    args = ap.parse_args(argv)

    root = args.root or REPO / "outputs" / "bench" / f"discovery-{args.tag}"
    root.mkdir(parents=True, exist_ok=True)
    noise = [f"noise.designs=[{','.join(SEED_DESIGNS)}]", "noise.seeds=[1]", f"noise.rungs=[{LM_RUNG}]"]
    budget = [f"stop.designs={args.designs}", "stop.wall_time_s=null", *noise, *args.extra]

    seeds_dir = root / "seeds"
    if not finished(seeds_dir, 0):
        cost = run_genesys(seeds_dir, ["stop.designs=0", "stop.wall_time_s=null", *noise, *args.extra],
                           args.timeout, root / "seeds.log")
        (root / "seeds-cost.json").write_text(json.dumps(cost))
        print(f"seeds verified: {cost}", flush=True)
    seed_cost = json.loads((root / "seeds-cost.json").read_text())

    results: Dict[str, List[dict]] = {arm: [] for arm in args.arms}
    for seed in args.seeds:            # seed-major: an interrupted benchmark has every arm at the same depth
        for arm in args.arms:
            run_dir = root / f"{arm}-s{seed}"
            cost_file = root / f"{arm}-s{seed}-cost.json"
            if not (finished(run_dir, args.designs) and cost_file.exists()):
                if run_dir.exists():
                    shutil.rmtree(run_dir)
                shutil.copytree(seeds_dir, run_dir, ignore=shutil.ignore_patterns("checkpoints", "wandb"))
                (run_dir / "summary.json").unlink(missing_ok=True)
                cost = run_genesys(run_dir, [f"seed={seed}", *ARMS[arm], *budget], args.timeout,
                                   root / f"{arm}-s{seed}.log")
                cost_file.write_text(json.dumps(cost))
            row = {"seed": seed, **json.loads(cost_file.read_text()), **measure(run_dir, args.top, args.every)}
            results[arm].append(row)
            print(f"{arm} seed {seed}: Δ {row['metrics'].get('delta')}, best new loss {row['best_new_loss']} vs "
                  f"seed {row['best_seed_loss']}, {row['wall_s']} s", flush=True)

    noise = noise_bars(seeds_dir)
    (root / "results.json").write_text(json.dumps({"noise": noise, "seed_cost": seed_cost, "results": results},
                                                  indent=1, default=str))
    costs = [seed_cost] + [r for runs in results.values() for r in runs]
    total_min = sum(c["wall_s"] for c in costs) / 60
    body = f"""`python bench/discovery.py --designs {args.designs} --seeds {' '.join(map(str, args.seeds))}` \
({machine()}; {total_min:.0f} min of runs in all). Arms: **symbolic** (the default evolution), **random** (the
same operators with `selection.wo_exp=true`: parents and verification order uniform, fitness never read), **base**
(`+experiment=base`). Each run: `stop.designs={args.designs}` new designs on the default CPU ladder (proxy rung, then
{LM_RUNG}), its own `seed=`; the five seeds were verified once ({seed_cost['wall_s'] / 60:.1f} min wall, with a
noise repeat of each at {LM_RUNG} with training seed 1) and every run starts from a copy of that folder. Curve:
population = best {args.top} of seeds + first t designs, sampled every {args.every}. Mean ± sd over runs.
Noise bars: the largest spread of a seed design over training seeds 0/1 at {LM_RUNG} in this benchmark's seeds
run: {_fmt(noise['loss'])} nats of val loss, {_fmt(noise['fitness'])} of fitness.

{table(results, noise)}

{per_run(results)}
"""
    print(body)
    if not args.no_write:
        write_section("Discovery", body)


if __name__ == "__main__":
    main()
