"""Run design code in a locked-down child process and stream its results back.

The child gets: an address-space limit (RLIMIT_AS), a CPU-time limit (RLIMIT_CPU), a file-size limit, a
wall-clock timeout per phase (enforced here, by killing its process group), a scratch working directory, an
environment without secrets, and -- where the kernel lets us (we run as root) -- its own network namespace with
no interfaces and its own mount namespace in which every file system except the scratch directory is read-only,
with all capabilities dropped before exec. Where that is not possible it falls back to the in-child guards
(blocked socket layer, audit hook), which are installed in every case as defence in depth (runtime/guard.py).

Protocol: the parent writes job.json into the scratch directory; the child writes JSON lines to a pipe
(fd passed on the command line): {"start": phase} when a phase begins, {"result": {...}} when it ends,
{"sandbox": {...}} once at start-up. Design output (prints) goes to a capped log file, never to the pipe.
"""
from __future__ import annotations

import ctypes
import dataclasses
import json
import os
import resource
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from typing import Callable, Dict, List, Optional

from genesys.paths import REPO_ROOT
from genesys.textfiles import tail

_CLONE_NEWNS, _CLONE_NEWNET = 0x00020000, 0x40000000
_MS_RDONLY, _MS_REMOUNT, _MS_BIND, _MS_REC, _MS_PRIVATE = 1, 32, 4096, 16384, 1 << 18
_PR_CAPBSET_DROP, _PR_SET_NO_NEW_PRIVS = 24, 38
_KEEP_ENV = ("PATH", "LANG", "LC_ALL", "TZ")
_OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
                "WANDB_MODE": "disabled", "TOKENIZERS_PARALLELISM": "false", "PYTHONDONTWRITEBYTECODE": "1",
                "PYTHONHASHSEED": "0"}


@dataclasses.dataclass
class Limits:
    memory_gb: float = 8.0          # address space; torch alone maps ~1 GB
    cpu_seconds: int = 600          # total CPU time of the child (all threads)
    file_mb: int = 64               # largest file the child may write (its log included)
    threads: int = 2
    startup_timeout: float = 120.0  # importing torch on a loaded machine
    isolate: bool = True            # try namespaces (network, read-only mounts) and drop capabilities


@dataclasses.dataclass
class ChildOutcome:
    """What came back: results in order, the phase that was running if the child died, and why it died."""

    results: List[dict]
    sandbox: dict
    died_in: Optional[str] = None   # phase name, or "startup"
    death: Optional[str] = None     # "timeout" | "memory" | "crash"
    detail: str = ""
    log_tail: str = ""
    seconds: float = 0.0


def _isolate(scratch: str) -> Callable[[], None]:
    """The pre-exec hook of the child (runs after fork, before exec)."""
    def setup() -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.unshare(_CLONE_NEWNET)  # the child verifies what it got (runtime/guard.py) and reports it
        if libc.unshare(_CLONE_NEWNS) == 0 and _mount(libc, None, "/", _MS_REC | _MS_PRIVATE):
            _mount(libc, scratch, scratch, _MS_BIND)
            with open("/proc/self/mountinfo") as f:
                points = [line.split()[4] for line in f]
            for point in reversed(points):
                if point != scratch:
                    _mount(libc, None, point, _MS_REMOUNT | _MS_BIND | _MS_RDONLY)
        for cap in range(64):  # exec then leaves the child (uid 0) without any capability: it cannot undo this
            libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0)
        libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    return setup


def _mount(libc, source: Optional[str], target: str, flags: int) -> bool:
    enc = lambda s: s.encode() if s else None  # noqa: E731
    return libc.mount(enc(source), enc(target), None, ctypes.c_ulong(flags), None) == 0


def _rlimits(limits: Limits) -> Callable[[], None]:
    def setup() -> None:
        gb = int(limits.memory_gb * 2 ** 30)
        resource.setrlimit(resource.RLIMIT_AS, (gb, gb))
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 5))
        fsize = limits.file_mb * 2 ** 20
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return setup


def child_env(scratch: str, threads: int) -> Dict[str, str]:
    """A minimal environment: no tokens or keys from ours, home and temp in the scratch directory."""
    env = {k: os.environ[k] for k in _KEEP_ENV if k in os.environ}
    env.update(_OFFLINE_ENV)
    env.update({"HOME": scratch, "TMPDIR": scratch, "OMP_NUM_THREADS": str(threads),
                "MKL_NUM_THREADS": str(threads), "GENESYS_SANDBOX_SCRATCH": scratch})
    return env


def run_child(job: dict, phase_timeouts: Dict[str, float], limits: Limits,
              on_event: Optional[Callable[[dict], None]] = None) -> ChildOutcome:
    """Run `genesys.checker.runtime.child` on `job`; never raises for anything the child does."""
    scratch = tempfile.mkdtemp(prefix="genesys-check-")
    os.chmod(scratch, 0o700)
    host_ns = {kind: os.stat(f"/proc/self/ns/{kind}").st_ino for kind in ("net", "mnt")
               if os.path.exists(f"/proc/self/ns/{kind}")}
    with open(os.path.join(scratch, "job.json"), "w") as f:
        json.dump(dict(job, host_ns=host_ns, scratch=scratch), f)
    read_fd, write_fd = os.pipe()
    log_path = os.path.join(scratch, "child.log")
    code = ("import sys; sys.path.insert(0, %r); from genesys.checker.runtime.child import main; main(%d)"
            % (str(REPO_ROOT), write_fd))
    pre = [_rlimits(limits)] + ([_isolate(scratch)] if limits.isolate else [])
    start = time.monotonic()
    outcome = ChildOutcome(results=[], sandbox={})
    try:
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-I", "-c", code], cwd=scratch, env=child_env(scratch, limits.threads),
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, pass_fds=(write_fd,),
                preexec_fn=lambda: [p() for p in pre], start_new_session=True)
        os.close(write_fd)
        _collect(proc, read_fd, phase_timeouts, limits, outcome, on_event)
        outcome.log_tail = tail(log_path)
    finally:
        os.close(read_fd)
        shutil.rmtree(scratch, ignore_errors=True)
        outcome.seconds = time.monotonic() - start
    return outcome


def _collect(proc: subprocess.Popen, fd: int, timeouts: Dict[str, float], limits: Limits,
             outcome: ChildOutcome, on_event) -> None:
    phase, deadline = "startup", time.monotonic() + limits.startup_timeout
    buffer = b""
    sel = selectors.DefaultSelector()
    sel.register(fd, selectors.EVENT_READ)
    eof = False
    while not eof:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            _kill(proc)
            outcome.died_in, outcome.death = phase, "timeout"
            outcome.detail = f"phase {phase!r} ran past its wall-clock limit"
            return
        if not sel.select(timeout=min(remaining, 1.0)):
            continue
        chunk = os.read(fd, 1 << 16)
        eof = not chunk
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            if "start" in msg:
                phase = msg["start"]
                deadline = time.monotonic() + float(timeouts.get(phase, 60.0))
            elif "result" in msg:
                outcome.results.append(msg["result"])
                deadline = time.monotonic() + 30.0
            elif "sandbox" in msg:
                outcome.sandbox = msg["sandbox"]
            if on_event:
                on_event(msg)
    try:
        rc = proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        _kill(proc)
        rc = proc.wait()
    if rc != 0 and phase != "done":
        outcome.died_in = phase
        if rc == -signal.SIGXCPU:
            outcome.death, outcome.detail = "timeout", "the child ran out of CPU time (RLIMIT_CPU)"
        elif rc == -signal.SIGKILL:
            outcome.death, outcome.detail = "memory", "the child was killed (SIGKILL; most often out of memory)"
        else:
            name = signal.Signals(-rc).name if rc < 0 else f"exit status {rc}"
            outcome.death, outcome.detail = "crash", f"the child died ({name})"


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


