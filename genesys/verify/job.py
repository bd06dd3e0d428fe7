"""Verification as a typed job: compose the verify config for (design, rung, seed, eval, overrides), run
`python -m genesys.verify` in a child process under a deadline, and return the `VerificationRecord` it wrote.

Design code never runs in the caller (the quickstart, the orchestrator's verifier workers, tests): the child is
its own process group, killed on timeout or when `poll` asks to abort (e.g. the store lease was lost). The child's
exit code, its record and the record's stop reason agree: exit 0 = a completed run (record written, stop_reason
"completed"); exit EXIT_STOPPED = the run monitor stopped training (record written, stop_reason says why); any
other exit = a crash (no record). Anything else is reported as a crash too, never trusted.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, List, Optional, Sequence, Tuple

from omegaconf import DictConfig

from genesys import secrets
from genesys.config import compose_config
from genesys.paths import REPO_ROOT
from genesys.textfiles import tail
from genesys.verify.record import VerificationRecord

EXIT_STOPPED = 3          # the run monitor stopped training; the record is written and says why
PROXY_RUNG = "proxy"      # rung 0: the synthetic proxy suite, no LM pre-training
KILL_GRACE_S = 10.0
VERIFY_MODULE = "genesys.verify"   # the child: `python -m genesys.verify <arguments>` (or forked from a zygote)


@dataclass(frozen=True)
class VerificationJob:
    """One verification: a design at one rung (a scale name from conf/scale, or "proxy") with one seed."""
    design: str
    rung: str
    run_dir: Path
    seed: int = 0
    eval: Optional[str] = None                 # conf/eval option; None: "proxy" at the proxy rung, else verify's default
    overrides: Tuple[str, ...] = ()            # any further Hydra overrides of the verify config

    def hydra_overrides(self) -> List[str]:
        args = [f"design={self.design}", f"seed={self.seed}"]
        if self.rung == PROXY_RUNG:   # the proxy suite trains its own models: the job's seed is their seed
            args += [f"eval={self.eval or 'proxy'}", f"eval.proxy.train.seed={self.seed}"]
        else:
            args.append(f"scale={self.rung}")
            if self.eval:
                args.append(f"eval={self.eval}")
        return args + list(self.overrides)

    def compose(self) -> DictConfig:
        """The config the child will run with (validates the overrides before a process is started)."""
        return compose_config("verify", self.hydra_overrides())

    def arguments(self) -> List[str]:
        """The child's command-line arguments (after `python -m genesys.verify`)."""
        return [*self.hydra_overrides(), f"hydra.run.dir={Path(self.run_dir).resolve()}"]

    def command(self) -> List[str]:
        return [sys.executable, "-m", VERIFY_MODULE, *self.arguments()]


@dataclass
class VerificationResult:
    job: VerificationJob
    status: str                                # completed | stopped | crashed | timeout | aborted
    record: Optional[VerificationRecord]
    returncode: Optional[int]
    seconds: float
    log: Path
    error: Optional[str] = None
    log_tail: str = field(default="", repr=False)

    @property
    def ok(self) -> bool:
        """A record to score: the run completed, or the monitor stopped it (its record still says how far it got)."""
        return self.record is not None


def _kill_group(proc: subprocess.Popen) -> None:
    """SIGTERM the child's process group, SIGKILL what is left after a grace period."""
    for sig, wait in ((signal.SIGTERM, KILL_GRACE_S), (signal.SIGKILL, KILL_GRACE_S)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _pump(stream, log_file, echo: bool) -> None:
    for line in iter(stream.readline, b""):
        try:
            log_file.write(line)
            log_file.flush()
        except OSError:    # a full disk: keep draining, or the child would block on a full pipe
            pass
        if echo:
            sys.stdout.buffer.write(line)
            sys.stdout.flush()


def die_with_parent(sig: int = signal.SIGKILL) -> None:
    """Ask the kernel to send `sig` to this process when the process that started it dies (Linux; elsewhere a
    no-op). Used in each verification child (before exec), so a killed worker never leaves a training run behind
    it (the child is in its own session, out of reach of Ctrl-C), and in each worker."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, int(sig))   # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


# Secrets the training child has no use for never reach it (it runs LLM-written design code): variables named like
# a secret (genesys.secrets), and the store's URL. W&B and the Hub keep their keys (the child logs
# to W&B and may fetch data).
DROPPED_NAMES = {"GENESYS_STORE_URL", "DATABASE_URL", "PGPASSWORD"}
TRAINING_SECRETS = {"WANDB_API_KEY", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"}


def is_secret_name(name: str) -> bool:
    return name not in TRAINING_SECRETS and (name in DROPPED_NAMES or secrets.is_secret_name(name))


def child_env(threads: Optional[int] = None, extra: Optional[dict] = None) -> dict:
    """The caller's environment without its secrets (above), with this checkout of genesys first on the path and
    optional thread limits."""
    env = {k: v for k, v in os.environ.items() if not is_secret_name(k)}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    env.setdefault("PYTHONUNBUFFERED", "1")
    if threads:
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            env[var] = str(threads)
    env.update(extra or {})
    return env


def _judge(job: VerificationJob, returncode: int, record_path: Path) -> Tuple[str, Optional[VerificationRecord], Optional[str]]:
    """Status from the exit code and the record; a disagreement is a crash (the record is not trusted)."""
    record = None
    if record_path.exists():
        try:
            record = VerificationRecord.read(record_path)
        except (ValueError, TypeError, OSError) as exc:
            return "crashed", None, f"unreadable record {record_path}: {exc}"
    if returncode == 0:
        if record is None:
            return "crashed", None, "exit 0 without a record"
        if record.stop_reason != "completed":
            return "crashed", None, f"exit 0 but the record's stop reason is {record.stop_reason!r}"
        return "completed", record, None
    if returncode == EXIT_STOPPED:
        if record is None or record.stop_reason == "completed":
            return "crashed", None, f"exit {EXIT_STOPPED} (stopped) but the record says {getattr(record, 'stop_reason', None)!r}"
        return "stopped", record, None
    return "crashed", None, f"exit code {returncode}"


def run_verification(job: VerificationJob, timeout_s: Optional[float] = None, echo: bool = False,
                     poll: Optional[Callable[[], bool]] = None, poll_every_s: float = 10.0,
                     threads: Optional[int] = None, env: Optional[dict] = None,
                     zygote=None) -> VerificationResult:
    """Run the job in a child process and wait for it (at most `timeout_s`). `poll()` is called every
    `poll_every_s` while it runs (a lease heartbeat); returning False aborts the job. The child's output goes to
    <run_dir>/verify.log (and to stdout with `echo`). With a `genesys.verify.zygote.Zygote` (and no echo) the child
    is forked from that preloaded parent instead of started as a fresh interpreter; if that parent dies under the
    child, ZygoteError is raised (the design is not to blame)."""
    job.compose()   # a bad override fails here, in the caller, with Hydra's own message
    run_dir = Path(job.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    record_path = run_dir / "record.json"
    record_path.unlink(missing_ok=True)   # the record must come from this run
    log = run_dir / "verify.log"
    start = time.monotonic()
    with open(log, "ab") as log_file:
        if zygote is not None and not echo:   # the child writes its log itself
            proc, pump = zygote.start(VERIFY_MODULE, job.arguments(), child_env(threads, env), log), None
        else:
            proc = subprocess.Popen(job.command(), env=child_env(threads, env),
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    start_new_session=True, preexec_fn=die_with_parent)
            pump = threading.Thread(target=_pump, args=(proc.stdout, log_file, echo), daemon=True)
            pump.start()
        status, next_poll = None, start + poll_every_s
        try:
            while proc.poll() is None:
                now = time.monotonic()
                if timeout_s is not None and now - start > timeout_s:
                    status = "timeout"
                elif poll is not None and now >= next_poll:
                    next_poll = now + poll_every_s
                    if not poll():
                        status = "aborted"
                if status:
                    _kill_group(proc)
                    break
                time.sleep(0.2)
        except BaseException:          # Ctrl-C or an error in poll(): never leave the child behind
            _kill_group(proc)
            raise
        finally:
            if pump is not None:
                pump.join(timeout=5)
    seconds = time.monotonic() - start
    if getattr(proc, "lost", None) is not None:
        raise proc.lost
    if status == "timeout":
        return VerificationResult(job, "timeout", None, proc.returncode, seconds, log,
                                  f"no result within {timeout_s:.0f} s (killed)", tail(log))
    if status == "aborted":
        return VerificationResult(job, "aborted", None, proc.returncode, seconds, log, "aborted by the caller", tail(log))
    status, record, error = _judge(job, proc.returncode, record_path)
    return VerificationResult(job, status, record, proc.returncode, seconds, log, error,
                              tail(log) if error else "")


def run_verifications(jobs: Sequence[VerificationJob], **kwargs) -> List[VerificationResult]:
    return [run_verification(job, **kwargs) for job in jobs]
