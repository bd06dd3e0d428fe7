"""Run one child process and measure it: wall seconds, and CPU seconds (user + system) of it and its waited-for
descendants, from resource.getrusage -- the cost figure every bench script reports."""
from __future__ import annotations

import resource
import subprocess
import time
from typing import Sequence, Tuple


def run_measured(cmd: Sequence[str], **kwargs) -> Tuple[subprocess.CompletedProcess, float, float]:
    """subprocess.run(cmd, **kwargs) -> (result, wall_s, cpu_s)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(list(cmd), **kwargs)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return done, wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
