"""The evolution's own costs: store claims under 8 processes, selection over 10,000 designs, and how much of a
finished run's wall time went to real work (checker + verification) rather than orchestration.

    python bench/evolution.py store [--workers 8 --targets 400]      # SQLite file, the real claim path
    python bench/evolution.py selection [--designs 10000]
    python bench/evolution.py overhead outputs/evolution/quickstart   # a finished run folder
    python bench/evolution.py all RUN_DIR                              # all three, written to BENCHMARKS.md

Store: each worker claims (design, rung) targets through Store.claim and completes them with a small fake record;
the reference is the same number of bare `BEGIN IMMEDIATE; INSERT; COMMIT` transactions on a raw sqlite3
connection in the same file system by the same number of processes (the floor of any SQLite write path).
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import machine, write_section  # noqa: E402


def _percentiles(values):
    values = sorted(values)
    pick = lambda q: values[min(len(values) - 1, int(q * len(values)))] * 1000  # noqa: E731
    return pick(0.5), pick(0.95), pick(0.99)


def _claim_worker(url, worker, targets, out):
    from genesys.evolution.store import Store
    store = Store.open(url)
    latencies, done = [], 0
    order = list(targets)
    random.Random(worker).shuffle(order)
    for design, rung in order:
        t = time.perf_counter()
        claim = store.claim(design, rung, f"w{worker}", lease_s=60)
        latencies.append(time.perf_counter() - t)
        if claim is not None:
            store.complete(claim, {"val_loss": 1.0}, "completed")
            done += 1
    store.close()
    out.put((worker, done, latencies))


def _raw_worker(path, worker, n, out):
    con = sqlite3.connect(path, timeout=60, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    latencies = []
    for i in range(n):
        t = time.perf_counter()
        con.execute("BEGIN IMMEDIATE")
        con.execute("INSERT INTO t (w, i) VALUES (?, ?)", (worker, i))
        con.execute("COMMIT")
        latencies.append(time.perf_counter() - t)
    con.close()
    out.put((worker, n, latencies))


def _run(target, args_of, workers):
    out = mp.Queue()
    procs = [mp.Process(target=target, args=(*args_of(w), out)) for w in range(workers)]
    start = time.perf_counter()
    for p in procs:
        p.start()
    results = [out.get(timeout=600) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    return time.perf_counter() - start, results


def bench_store(workers: int = 8, targets: int = 400) -> str:
    from genesys.evolution.store import Store
    tmp = Path(tempfile.mkdtemp(prefix="genesys-bench-store-"))
    url = f"sqlite:///{tmp / 'evolution.db'}"
    store = Store.open(url)
    designs = [f"d{i}" for i in range(targets // 2)]
    for name in designs:
        store.add_design(name, {"name": name}, "", f"h-{name}", [], "mutation")
    store.close()
    pool = [(d, r) for d in designs for r in ("proxy", "cpu_xs")]
    wall, results = _run(_claim_worker, lambda w: (url, w, pool), workers)
    done = sum(r[1] for r in results)
    lat = [x for r in results for x in r[2]]
    check = Store.open(url)
    finished = [v for v in check.verifications() if v.status == "done"]
    check.close()
    exactly_once = done == len(pool) == len(finished) == len({(v.design, v.rung) for v in finished})

    raw = tmp / "raw.db"
    con = sqlite3.connect(raw)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, w INTEGER, i INTEGER)")
    con.close()
    per = len(pool) // workers
    raw_wall, raw_results = _run(_raw_worker, lambda w: (str(raw), w, per), workers)
    raw_lat = [x for r in raw_results for x in r[2]]
    p50, p95, p99 = _percentiles(lat)
    r50, r95, r99 = _percentiles(raw_lat)
    calls = len(lat) + done                      # every claim attempt and every completion is one transaction
    tput, raw_tput = calls / wall, len(raw_lat) / raw_wall
    return (f"`python bench/evolution.py store --workers {workers} --targets {len(pool)}` ({machine()}). Each worker "
            f"walks all {len(pool)} targets in its own order trying to claim each (most are taken by then) and "
            f"completes what it gets.\n\n"
            f"| path | transactions | wall s | transactions/s | p50 ms | p95 ms | p99 ms |\n|---|---|---|---|---|---|---|\n"
            f"| Store.claim ({len(lat)} attempts, {done} won) + complete, {workers} processes | {calls} | {wall:.1f} | {tput:.0f} | {p50:.1f} | {p95:.1f} | {p99:.1f} |\n"
            f"| reference: bare BEGIN IMMEDIATE insert, {workers} processes | {len(raw_lat)} | {raw_wall:.1f} | {raw_tput:.0f} | {r50:.1f} | {r95:.1f} | {r99:.1f} |\n\n"
            f"(latency columns: claim attempts vs bare inserts). Every verification done exactly once: "
            f"**{exactly_once}** ({len(finished)} of {len(pool)}). Transactions per second against the bare-insert "
            f"reference: **{tput / raw_tput:.2f}x** (a claim reads the design, then inserts or updates under a "
            f"write lock; both walls include process start).\n")


def bench_selection(n: int = 10_000) -> str:
    from genesys.evolution import selection
    from genesys.evolution.budget import budget_from_counts
    from genesys.evolution.population import Candidate
    from genesys.evolution.scoring import population_fitness
    rng = random.Random(0)
    rungs = ["proxy", "cpu_xs", "cpu_s", "cpu_m"]
    records, candidates = [], []
    for i in range(n):
        name = f"d{i}"
        depth = rng.choice([1, 1, 1, 2, 2, 3])
        for rung in rungs[:depth]:
            table = {f"t{k}": {"metric": "acc", "acc": rng.random(), "random_baseline": 0.25} for k in range(6)}
            records.append({"design": name, "scale": rung, "val_loss": None, "eval": {"proxy": table}})
        candidates.append((name, tuple(rungs[:depth])))
    t0 = time.perf_counter()
    fitness = population_fitness(records)
    t1 = time.perf_counter()
    cands = [Candidate(name=nm, parents=("d0",), mode="mutation", verified=v, fitness=fitness.get(nm))
             for nm, v in candidates]
    done = {r: sum(r in v for _, v in candidates) for r in rungs}
    budget = budget_from_counts(rungs, {r: None for r in rungs}, 0.25, done, done)
    points = {"proxy": 1, "cpu_xs": 2, "cpu_s": 3, "cpu_m": 4}
    mode = selection.choose_mode(n, rng)
    parents = selection.choose_parents(cands, mode, rng, points)
    pick = selection.choose_verification(cands, rungs, budget, rng, points)
    t2 = time.perf_counter()
    return (f"`python bench/evolution.py selection --designs {n}` ({machine()}): {len(records)} records of "
            f"{n} designs (6 tasks each).\n\n| step | seconds |\n|---|---|\n"
            f"| fitness (Eq. 1 over the population) | {t1 - t0:.2f} |\n"
            f"| mode + parents + verification choice | {t2 - t1:.3f} |\n"
            f"| total against the 1 s target | **{t2 - t0:.2f}** ({(t2 - t0) / 1.0:.2f}x the target) |\n\n"
            f"(picked {mode} from {list(parents.parents)}, verify {pick})\n")


def bench_overhead(run_dir: Path) -> str:
    """Worker time spent in real work (designer attempts: checker and operators; verification children) against
    the worker time the run had (workers x wall time of the run)."""
    from genesys.evolution.store import Store
    run_dir = Path(run_dir)
    store = Store.open(run_dir)
    starts = [e.created_at for e in store.events(kind="run_start")]
    ends = [e.created_at for e in store.events(kind="run_end")]
    verifications = [v for v in store.verifications() if v.started_at and v.finished_at]
    verify_s = sum((v.finished_at - v.started_at).total_seconds() for v in verifications)
    design_s = sum(e.payload.get("seconds") or 0 for e in store.events(kind="attempt"))
    sessions = store.sessions()
    store.close()
    if not starts or not ends:
        return f"{run_dir}: no finished run recorded"
    wall = sum((e - s).total_seconds() for s, e in zip(starts, ends))
    busy = {}
    for s in sessions:
        if s.ended_at:
            busy[s.kind] = busy.get(s.kind, 0.0) + (s.ended_at - s.started_at).total_seconds()
    v_share = verify_s / busy["verifier"] if busy.get("verifier") else None
    d_share = design_s / busy["designer"] if busy.get("designer") else None
    orchestration = 1 - (verify_s + design_s) / max(1e-9, sum(busy.values()))
    fmt = lambda x: "—" if x is None else f"{100 * x:.1f} %"  # noqa: E731
    return (f"`python bench/evolution.py overhead {run_dir}` ({machine()}): run wall time {wall:.0f} s.\n\n"
            f"| worker kind | worker-seconds alive | in real work | share |\n|---|---|---|---|\n"
            f"| verifiers | {busy.get('verifier', 0):.0f} | {verify_s:.0f} (verification children) | {fmt(v_share)} |\n"
            f"| designers | {busy.get('designer', 0):.0f} | {design_s:.0f} (operators + checker) | {fmt(d_share)} |\n\n"
            f"Orchestration (store reads, selection, process start-up, waiting for work) is **{fmt(orchestration)}** of "
            f"the workers' time (target ≤ 5 %); a verifier waiting for designs to exist counts as orchestration here.\n")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["store", "selection", "overhead", "all"])
    ap.add_argument("run_dir", nargs="?")
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--targets", type=int, default=400)
    ap.add_argument("--designs", type=int, default=10_000)
    ap.add_argument("--write", action="store_true", help="write the section to BENCHMARKS.md")
    a = ap.parse_args()
    parts = []
    if a.what in ("store", "all"):
        parts.append("### Store claims\n\n" + bench_store(a.workers, a.targets))
    if a.what in ("selection", "all"):
        parts.append("### Selection\n\n" + bench_selection(a.designs))
    if a.what in ("overhead", "all"):
        parts.append("### Orchestration overhead\n\n" + bench_overhead(Path(a.run_dir)))
    text = "\n".join(parts)
    print(text)
    if a.write or a.what == "all":
        write_section("Evolution", text)


if __name__ == "__main__":
    main()
