"""Small builders shared by the store tests."""
from __future__ import annotations

import multiprocessing

JOIN_DEADLINE_S = 120


def add(store, name: str, parents=(), struct_hash: str | None = None, **kwargs):
    """Store a minimal design whose hash defaults to one derived from its name."""
    tree = {"root": name, "units": {name: {"children": []}}}
    mode = kwargs.pop("mode", "mutation" if parents else "scratch")
    return store.add_design(name, tree, f"# code of {name}\n", struct_hash or f"hash-{name}", list(parents), mode,
                            **kwargs)


def run_workers(fn, store_target, workers, *args):
    """Start one forked process per worker on `fn(store_target, worker, *args, go, results)`, release them together,
    and return their reports (every wait under the deadline; each process must exit cleanly and report no error)."""
    ctx = multiprocessing.get_context("fork")
    go, results = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=fn, args=(store_target, w, *args, go, results)) for w in workers]
    for p in procs:
        p.start()
    go.set()
    reports = [results.get(timeout=JOIN_DEADLINE_S) for _ in procs]
    for p in procs:
        p.join(JOIN_DEADLINE_S)
        assert p.exitcode == 0
    assert [r[4] for r in reports] == [None] * len(workers), reports
    return reports
