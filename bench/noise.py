"""Rung noise: verify each design at one rung over several training seeds; print the spread and the cost.

    python bench/noise.py --rung cpu_xs --designs gpt2 mamba2 retnet rwkv6 ttt --seeds 0 1 2
    python bench/noise.py --rung proxy --designs gpt2 --seeds 0 1 2 -- eval.proxy.repeats=1   # extra overrides
    python bench/noise.py --rung cpu_xs --eval local ...   # LM rungs also run the local lm-eval tasks
    python bench/noise.py --rung cpu_s --replicates 2 --from a.json b.json   # summarise earlier runs, seeds paired

An LM rung runs `python -m genesys.verify design=... scale=<rung> seed=<s> eval=none|local` per (design, seed);
the proxy rung runs `eval=proxy` with `eval.proxy.train.seed=<s>`. Each verification is its own subprocess
(the quickstart's unit of work), one at a time, with OMP/MKL threads set by --threads (1: the box is shared).
Cost = the child's wall seconds and CPU seconds (user + system, from resource.getrusage of the children).
The spread of a design is max - min over seeds of its rung value: final validation loss (nats) on an LM rung,
the suite's mean accuracy over tasks on the proxy rung. Results go to a JSON file and a Markdown table.
With --replicates k (a rung that averages k training seeds per design, `ladder.replicates`) the seeds, in order,
are taken k at a time (0..k-1, k..2k-1, ...) and the spread is also given over those groups' means: the rung's noise
as the evolution sees it.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
from child import run_measured  # noqa: E402
SEEDS = ["gpt2", "mamba2", "retnet", "rwkv6", "ttt"]


def suite_mean(table: Dict[str, dict]) -> Optional[float]:
    """Mean accuracy over the proxy table's tasks (the rung value the issue's targets use); None if empty."""
    values = [row["accuracy"] for row in table.values() if row.get("accuracy") is not None]
    return sum(values) / len(values) if values else None


def rung_value(record: dict) -> Optional[float]:
    """The number a rung ranks designs by: proxy -> the suite mean, LM rung -> the final val loss."""
    if record.get("scale") == "proxy":
        return suite_mean((record.get("eval") or {}).get("proxy") or {})
    return record.get("val_loss")


def group_means(values: Sequence[Optional[float]], k: int) -> List[Optional[float]]:
    """Means of consecutive groups of k values (a group with a missing value, or an incomplete one, is None)."""
    groups = [values[i:i + k] for i in range(0, len(values) - k + 1, k)]
    return [None if None in g else sum(g) / k for g in groups]


def summarise(rows: Sequence[dict], replicates: int = 1) -> Dict[str, dict]:
    """{design: {"values": [...] in seed order, "spread": max - min, "mean", "sd" (sample standard deviation: the
    expected spread of 3 seeds is ~1.69 sd), "wall_s", "cpu_s" (means per run)}};
    with replicates k > 1 also "replicate_means" (groups of k seeds in order) and "replicate_spread" over them.
    Rows whose value is missing (a failed run) are counted in "failed" and kept out of the spread."""
    out: Dict[str, dict] = {}
    for design in dict.fromkeys(r["design"] for r in rows):
        mine = sorted((r for r in rows if r["design"] == design), key=lambda r: r["seed"])
        values = [r["value"] for r in mine if r["value"] is not None]
        out[design] = {
            "seeds": [r["seed"] for r in mine], "values": [r["value"] for r in mine],
            "spread": max(values) - min(values) if len(values) >= 2 else None,
            "mean": sum(values) / len(values) if values else None,
            "sd": statistics.stdev(values) if len(values) >= 2 else None,
            "wall_s": sum(r["wall_s"] for r in mine) / len(mine), "cpu_s": sum(r["cpu_s"] for r in mine) / len(mine),
            "failed": len(mine) - len(values)}
        if replicates > 1:
            means = [m for m in group_means([r["value"] for r in mine], replicates) if m is not None]
            out[design].update(replicate_means=means,
                               replicate_spread=max(means) - min(means) if len(means) >= 2 else None)
    return out


def markdown(summary: Dict[str, dict], rung: str, metric: str) -> str:
    seeds = max((s["seeds"] for s in summary.values()), key=len)
    fmt = lambda v: "—" if v is None else f"{v:.3f}"
    head = f"| design ({rung}) | " + " | ".join(f"seed {s}" for s in seeds) + \
        f" | spread ({metric}) | mean | sd | wall s / run | CPU s / run |"
    grouped = any("replicate_means" in s for s in summary.values())
    if grouped:
        head += " means of seed groups | spread of the means |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for design, s in summary.items():
        values = s["values"] + [None] * (len(seeds) - len(s["values"]))
        line = (f"| {design} | " + " | ".join(fmt(v) for v in values) + f" | **{fmt(s['spread'])}** | "
                f"{fmt(s['mean'])} | {fmt(s['sd'])} | {s['wall_s']:.0f} | {s['cpu_s']:.0f} |")
        if grouped:
            line += " " + " / ".join(fmt(m) for m in s.get("replicate_means", [])) + \
                f" | **{fmt(s.get('replicate_spread'))}** |"
        lines.append(line)
    return "\n".join(lines)


def command(design: str, rung: str, seed: int, eval_kind: str, run_dir: Path, extra: Sequence[str]) -> List[str]:
    """The verify command line for one (design, rung, seed); fresh run folder, no resume, no W&B."""
    design_arg = design if ("/" in design or design.endswith(".py")) else f"seeds/{design}"
    cmd = [sys.executable, "-m", "genesys.verify", f"design={design_arg}", f"seed={seed}",
           "train.progress_bar=false", "logger.wandb.enabled=false", "resume=false", f"hydra.run.dir={run_dir}",
           # the step-time monitor stopped a mamba2 run at 70 % on the shared box (load 8-13): a noise measurement
           # needs the whole run, however slow; an explicit monitor.time_tolerance in `extra` still wins
           "monitor.time_tolerance=1000"]
    if rung == "proxy":
        cmd += ["eval=proxy", f"eval.proxy.train.seed={seed}"]
    else:
        cmd += [f"scale={rung}", f"eval={eval_kind}"]
    return cmd + list(extra)


def killed(returncode: int, record: dict) -> bool:
    """The child ended by a signal (a negative return code), or Lightning caught a SIGTERM and exited 0 without a
    record: someone else's kill on the shared box, not a property of the design; worth one more try."""
    return returncode < 0 or (returncode == 0 and not record)


def run_one(design: str, rung: str, seed: int, eval_kind: str, out_root: Path, extra: Sequence[str],
            threads: int, timeout_s: float, retries: int = 1) -> dict:
    """One verification; rerun (fresh) up to `retries` times when it was killed from outside. The row's costs
    are those of the attempt that counted; "attempts" says how many were made."""
    for attempt in range(1, retries + 2):
        row = _attempt(design, rung, seed, eval_kind, out_root, extra, threads, timeout_s)
        row["attempts"] = attempt
        if not row.pop("killed"):
            break
        print(f"{design} seed {seed}: killed from outside (rc {row['returncode']}), attempt {attempt}",
              file=sys.stderr)
    return row


def _attempt(design: str, rung: str, seed: int, eval_kind: str, out_root: Path, extra: Sequence[str],
             threads: int, timeout_s: float) -> dict:
    run_dir = out_root / rung / f"{Path(design).name}-s{seed}"
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
           "WANDB_MODE": "offline", "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    proc, wall, cpu = run_measured(command(design, rung, seed, eval_kind, run_dir, extra), cwd=REPO, env=env,
                                   capture_output=True, text=True, timeout=timeout_s)
    record_path = run_dir / "record.json"
    record = json.loads(record_path.read_text()) if proc.returncode == 0 and record_path.exists() else {}
    if proc.returncode != 0:
        print(proc.stderr[-2000:], file=sys.stderr)
    return {"design": Path(design).name, "seed": seed, "value": rung_value(record) if record else None,
            "wall_s": round(wall, 1), "cpu_s": round(cpu, 1), "train_s": record.get("time_s"),
            "steps": record.get("steps"), "stop_reason": record.get("stop_reason"),
            "proxy": {t: r.get("accuracy") for t, r in ((record.get("eval") or {}).get("proxy") or {}).items()},
            "returncode": proc.returncode, "killed": killed(proc.returncode, record)}


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rung", default="cpu_xs", help="proxy or a CPU scale name (cpu_xs, cpu_s, cpu_m)")
    parser.add_argument("--designs", nargs="+", default=SEEDS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--eval", default="none", choices=["none", "local"], help="evaluation after LM training")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per verification")
    parser.add_argument("--retries", type=int, default=1, help="reruns of a verification killed from outside")
    parser.add_argument("--tag", default="now", help="names the output folder and JSON file")
    parser.add_argument("--out", type=Path, default=None, help="JSON results (default: outputs/bench/noise-...)")
    parser.add_argument("--replicates", type=int, default=1, help="also the spread of means of k seeds at a time")
    parser.add_argument("--from", dest="sources", nargs="+", type=Path, default=None,
                        help="summarise the rows of earlier result files (same rung) instead of running")
    parser.add_argument("extra", nargs="*", help="Hydra overrides passed to every verification (after --)")
    args = parser.parse_args(argv)
    from genesys.paths import outputs_dir
    out_root = outputs_dir() / "bench" / f"noise-{args.tag}"
    metric = "suite mean" if args.rung == "proxy" else "val loss"
    if args.sources:
        rows = [row for path in args.sources for row in json.loads(path.read_text())["rows"]]
        print(markdown(summarise(rows, args.replicates), args.rung, metric))
        return
    rows = []
    for design in args.designs:
        for seed in args.seeds:
            row = run_one(design, args.rung, seed, args.eval, out_root, args.extra, args.threads, args.timeout,
                          args.retries)
            print(json.dumps(row), flush=True)
            rows.append(row)
    summary = summarise(rows, args.replicates)
    print(markdown(summary, args.rung, metric))
    out = args.out or outputs_dir() / "bench" / f"noise-{args.rung}-{args.tag}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"rung": args.rung, "eval": args.eval, "threads": args.threads, "extra": args.extra,
                               "rows": rows, "summary": summary}, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
