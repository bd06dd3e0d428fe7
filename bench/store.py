"""The store under load: concurrent worker processes doing fast fake verifications through the real claim path,
on SQLite and on a throw-away PostgreSQL server in the same run (so the two compare as ratios).

    python bench/store.py [--workers 8 --seconds 120 --backends sqlite,postgresql --write]

Each worker loops like a verifier (workers.verifier_worker) without the training: requeue_expired, claim_pending,
else claim a (design, rung) from its own shuffled walk of the pool; then heartbeat and complete, or fail (a crash
the design is blamed for), or "die" (drop the claim: its short lease expires and another worker's requeue_expired
hands it out again). After ``seconds`` the workers stop taking new targets and drain what is pending or running.
Checked: every verification ends done or failed; each done one was completed by exactly one claim, the one whose
token its record holds; every worker ends before a deadline (else: deadlock).
"""
from __future__ import annotations

import argparse
import logging
import multiprocessing as mp
import random
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from report import machine, write_section  # noqa: E402

RUNGS = ("proxy", "cpu_xs", "cpu_s", "cpu_m")
LEASE_S = 1.0          # short, so dead workers' claims come back within the run
P_FAIL, P_DIE = 0.03, 0.02


@dataclass
class LoadResult:
    backend: str
    workers: int
    seconds: float                      # wall time from the first worker start to the last worker end
    claim_latency_s: list = field(default_factory=list)
    transactions: int = 0               # store calls made by the workers
    completions: list = field(default_factory=list)   # (verification id, token) of every successful complete
    fails: int = 0
    dies: int = 0
    lease_lost: int = 0
    reconnects: int = 0                 # store calls retried after a dropped connection
    stuck: list = field(default_factory=list)         # workers that did not end before the deadline
    errors: list = field(default_factory=list)        # workers that raised

    def percentiles_ms(self) -> tuple:
        values = sorted(self.claim_latency_s)
        if not values:
            return (None, None, None)
        return tuple(values[min(len(values) - 1, int(q * len(values)))] * 1000 for q in (0.5, 0.95, 0.99))


class _CountRetries(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record):
        self.count += 1


def _worker(url: str, index: int, pool: list, run_s: float, drain_s: float, out) -> None:
    """One verifier-like worker; puts its tallies on ``out``."""
    from genesys.evolution.store import LeaseLost, Store
    retries = _CountRetries()
    logging.getLogger("genesys.evolution.store.reconnect").addHandler(retries)
    rng = random.Random(index)
    walk = list(pool)
    rng.shuffle(walk)
    name = f"w{index}"
    tally = dict(latency=[], transactions=0, completions=[], fails=0, dies=0, lease_lost=0, error=None)
    store = Store.open(url)
    start = time.monotonic()
    try:
        while True:
            now = time.monotonic()
            draining = now - start > run_s or not walk
            if now - start > run_s + drain_s:
                break
            store.requeue_expired()
            t = time.perf_counter()
            claim = store.claim_pending(name, LEASE_S)
            tally["transactions"] += 2
            if claim is None and not draining:
                design, rung = walk.pop()
                claim = store.claim(design, rung, name, LEASE_S)
                tally["transactions"] += 1
            tally["latency"].append(time.perf_counter() - t)
            if claim is None:
                if draining:
                    tally["transactions"] += 2
                    if not store.verifications(status="running") + store.verifications(status="pending"):
                        break
                    time.sleep(0.1)
                continue
            roll = rng.random()
            try:
                if roll < P_DIE:
                    tally["dies"] += 1
                    continue
                store.heartbeat(claim, LEASE_S)
                if roll < P_DIE + P_FAIL:
                    store.fail(claim, "fake crash")
                    tally["fails"] += 1
                else:
                    store.complete(claim, {"token": claim.token, "worker": name}, "completed")
                    tally["completions"].append((claim.verification_id, claim.token))
                tally["transactions"] += 2
            except LeaseLost:
                tally["lease_lost"] += 1
    except Exception as exc:
        tally["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        store.close()
        tally["reconnects"] = retries.count
        out.put((index, tally))


def seed_pool(url: str, designs: int) -> list:
    """Store ``designs`` fake designs; the pool is every (design, rung)."""
    from genesys.evolution.store import Store
    with Store.open(url) as store:
        for i in range(designs):
            store.add_design(f"d{i}", {"name": f"d{i}"}, "", f"h{i}", [], "scratch")
    return [(f"d{i}", r) for i in range(designs) for r in RUNGS]


def run_load(url: str, backend: str, workers: int = 8, run_s: float = 120.0, designs: int = 3000,
             drain_s: float = 30.0, deadline_s: float = 60.0) -> LoadResult:
    """Seed the store at ``url``, run the workers, wait for them under a deadline; the checks are in ``check``."""
    pool = seed_pool(url, designs)
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(url, w, pool, run_s, drain_s, out), daemon=True)
             for w in range(workers)]
    start = time.monotonic()
    for p in procs:
        p.start()
    result = LoadResult(backend, workers, 0.0)
    got = {}
    deadline = start + run_s + drain_s + deadline_s
    while len(got) < workers and time.monotonic() < deadline:
        try:
            index, tally = out.get(timeout=max(0.1, min(1.0, deadline - time.monotonic())))
        except Exception:
            continue
        got[index] = tally
    result.seconds = time.monotonic() - start
    for index, p in enumerate(procs):
        p.join(timeout=max(0.0, deadline - time.monotonic()) + 1)
        if index not in got or p.is_alive():
            result.stuck.append(index)
            p.kill()
    for index, tally in got.items():
        result.claim_latency_s += tally["latency"]
        result.transactions += tally["transactions"]
        result.completions += tally["completions"]
        for key in ("fails", "dies", "lease_lost", "reconnects"):
            setattr(result, key, getattr(result, key) + tally[key])
        if tally["error"]:
            result.errors.append(f"w{index}: {tally['error']}")
    return result


def check(url: str, result: LoadResult) -> list:
    """What went wrong, as sentences; empty when every verification was done exactly once."""
    from genesys.evolution.store import Store
    with Store.open(url) as store:
        rows = store.verifications()
    problems = [f"worker {w} did not end before the deadline" for w in result.stuck] + result.errors
    left = Counter(v.status for v in rows if v.status not in ("done", "failed"))
    if left:
        problems.append(f"verifications left unfinished: {dict(left)}")
    by_id = Counter(vid for vid, _ in result.completions)
    twice = [vid for vid, n in by_id.items() if n > 1]
    if twice:
        problems.append(f"{len(twice)} verifications completed more than once")
    done = {v.id: v for v in rows if v.status == "done"}
    if set(by_id) != set(done):
        problems.append(f"done rows {len(done)} vs completions {len(by_id)}")
    tokens = dict(result.completions)
    wrong = [v.id for v in done.values() if v.record.get("token") != tokens.get(v.id)]
    if wrong:
        problems.append(f"{len(wrong)} done rows hold another claim's record")
    return problems


def _row(r: LoadResult, done: int) -> str:
    p50, p95, p99 = r.percentiles_ms()
    return (f"| {r.backend} | {r.workers} | {r.seconds:.0f} | {done} | {done / r.seconds:.1f} | "
            f"{r.transactions / r.seconds:.0f} | {p50:.1f} | {p95:.1f} | {p99:.1f} | {r.fails} / {r.dies} / "
            f"{r.lease_lost} |")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=120.0, help="claiming time per backend (then a drain)")
    ap.add_argument("--designs", type=int, default=3000)
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--write", action="store_true", help="write the section to BENCHMARKS.md")
    args = ap.parse_args()
    from tests.evolution import pg_server
    rows, results, failed = [], {}, False
    for backend in args.backends.split(","):
        server = None
        if backend == "sqlite":
            url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='genesys-bench-store-')) / 'evolution.db'}"
        else:
            server = pg_server.start(pg_server.find_bin())
            url = server.url()
        try:
            result = run_load(url, backend, args.workers, args.seconds, args.designs)
            problems = check(url, result)
        finally:
            if server:
                server.stop()
        done = len(result.completions)
        results[backend] = (result, done)
        rows.append(_row(result, done))
        print(rows[-1], "OK" if not problems else problems, flush=True)
        failed |= bool(problems)
    text = (f"`python bench/store.py --workers {args.workers} --seconds {args.seconds:.0f}` ({machine()}). "
            f"{args.workers} worker processes run fake verifications through the real claim path (requeue_expired, "
            f"claim_pending, else claim from a shuffled walk of {args.designs} designs x {len(RUNGS)} rungs; then "
            f"heartbeat and complete, or fail ({P_FAIL:.0%}), or die leaving a {LEASE_S:.0f} s lease to expire "
            f"({P_DIE:.0%})) for {args.seconds:.0f} s, then drain. Every verification done exactly once, no "
            f"deadlock: **{not failed}**.\n\n"
            "| backend | workers | wall s | verifications done | done/s | store calls/s | claim p50 ms | p95 ms | "
            "p99 ms | fails / dies / leases lost |\n|---|---|---|---|---|---|---|---|---|---|\n" + "\n".join(rows))
    if "sqlite" in results and "postgresql" in results:
        (s, s_done), (p, p_done) = results["sqlite"], results["postgresql"]
        ratio = lambda a, b: "—" if not b else f"{a / b:.2f}x"  # noqa: E731
        sp, pp = s.percentiles_ms(), p.percentiles_ms()
        text += (f"\n\nPostgreSQL against SQLite, same run: throughput "
                 f"**{ratio(p_done / p.seconds, s_done / s.seconds)}**, claim latency p50 {ratio(pp[0], sp[0])}, "
                 f"p99 {ratio(pp[2], sp[2])}. (Claim latency: one claim_pending, plus a claim when nothing was "
                 f"pending. The machine's cores are shared by all worker processes and the PostgreSQL server.)\n")
    print(text)
    if args.write:
        write_section("Store under load", text)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
