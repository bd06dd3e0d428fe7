"""A preloaded parent for verification children: imports torch, Lightning, Hydra and lm-eval once, then forks one
child per verification instead of starting a fresh interpreter (~7 s of imports per cpu_xs verification saved;
BENCHMARKS.md "The default run at about 15 minutes").

Trust: the zygote runs only our code (it is started with the secrets-free child environment and never loads a
design); each child is forked from it, so design code still runs in its own process, in its own session, writing
to its own log. The zygote dies with the process that started it, and its children die with the zygote.

Protocol (JSON lines): the client writes {"id", "module", "argv", "env", "cwd", "log"}; the zygote answers
{"ready": true} once after its imports, {"id", "pid"} per child started, and {"exit": pid, "returncode": rc} per
child reaped (rc as subprocess reports it: negative for a signal).

    python -m genesys.verify.zygote      # the server; clients use `Zygote` below
"""
from __future__ import annotations

import importlib
import json
import os
import select
import signal
import subprocess
import sys
import time
from typing import Dict, List, Optional

PRELOAD = ("torch", "lightning.pytorch", "hydra", "omegaconf", "genesys.verify.run", "genesys.evaluate.runner",
           "lm_eval.evaluator")
READY_DEADLINE_S = 180.0
START_DEADLINE_S = 30.0


# ----------------------------------------------------------------------------------------------- the server side

def _send(fd: int, message: dict) -> None:
    os.write(fd, (json.dumps(message) + "\n").encode())


def _run_child(request: dict, protocol_fds: List[int], zygote_pid: int) -> None:
    """In the forked child: become the verification process the request describes, then exit with its code."""
    code = 1
    try:
        os.setsid()
        from genesys.verify.job import die_with_parent
        die_with_parent()
        if os.getppid() != zygote_pid:   # the zygote died before the line above could tie this child to it
            os._exit(1)
        log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)                 # stdin (the zygote's request pipe) -> /dev/null
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(log)
        os.close(null)
        for fd in protocol_fds:          # the child cannot speak the protocol (or read other requests)
            if fd > 2:
                os.close(fd)
        sys.stdout.reconfigure(line_buffering=True, write_through=True)
        sys.stderr.reconfigure(line_buffering=True, write_through=True)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD):
            signal.signal(sig, signal.SIG_DFL if sig != signal.SIGINT else signal.default_int_handler)
        threads = request["env"].get("OMP_NUM_THREADS")
        if threads:
            import torch
            torch.set_num_threads(int(threads))
        sys.argv = [request["module"], *request["argv"]]
        import runpy
        runpy.run_module(request["module"], run_name="__main__", alter_sys=True)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
    except BaseException:   # noqa: BLE001 — everything the design does ends here, reported like a crashed process
        import traceback
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _await_session(pid: int, deadline_s: float = 5.0) -> None:
    """Answer only once the child leads its own session, so that a kill of its process group can never miss it."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        try:
            if os.getsid(pid) == pid:
                return
        except ProcessLookupError:
            return
        time.sleep(0.001)


def serve(preload=PRELOAD) -> None:
    """The zygote's loop: requests on stdin, answers on the original stdout (fd 1 is pointed at /dev/null so
    that nothing printed by an import can corrupt the protocol)."""
    requests_fd, answers_fd = sys.stdin.fileno(), os.dup(1)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    for name in preload:
        importlib.import_module(name)
    _send(answers_fd, {"ready": True})
    children, buffer = set(), b""
    while True:
        readable, _, _ = select.select([requests_fd], [], [], 0.2)
        if readable:
            chunk = os.read(requests_fd, 65536)
            if not chunk:          # the client is gone: its children go with us (die_with_parent)
                break
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                request = json.loads(line)
                zygote_pid = os.getpid()
                pid = os.fork()
                if pid == 0:
                    _run_child(request, [requests_fd, answers_fd], zygote_pid)
                children.add(pid)
                _await_session(pid)
                _send(answers_fd, {"id": request["id"], "pid": pid})
        while children:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                break
            children.discard(pid)
            _send(answers_fd, {"exit": pid, "returncode": os.waitstatus_to_exitcode(status)})


# ----------------------------------------------------------------------------------------------- the client side

class ZygoteError(RuntimeError):
    pass


def _gone(pid: int) -> bool:
    """Whether a process has ended (a zombie nobody reaped yet counts as ended)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


class ZygoteChild:
    """The part of subprocess.Popen that run_verification and its kill helper use: pid, poll, wait, returncode.
    A child whose zygote died died with it (PDEATHSIG): it reads as killed, and `lost` says why, so that the caller
    can tell this machinery's failure from the design's."""

    def __init__(self, zygote: "Zygote", pid: int, args):
        self.zygote, self.pid, self.args, self.returncode = zygote, pid, args, None
        self.lost: Optional[ZygoteError] = None

    def poll(self) -> Optional[int]:
        if self.returncode is None:
            try:
                self.returncode = self.zygote.exit_code(self.pid)
            except ZygoteError as exc:
                self.returncode, self.lost = -signal.SIGKILL, exc
        return self.returncode

    def wait(self, timeout: Optional[float] = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(self.args, timeout)
            time.sleep(0.05)
        return self.returncode


class Zygote:
    """Client of one zygote process (one per verifier worker; not thread-safe)."""

    def __init__(self, env: Dict[str, str], preload=PRELOAD, log: Optional[str] = None):
        """Start the zygote (its own errors go to `log`) and wait until it has imported `preload`."""
        from genesys.verify.job import die_with_parent
        if log:
            os.makedirs(os.path.dirname(os.path.abspath(log)), exist_ok=True)
        stderr = open(log, "ab") if log else subprocess.DEVNULL
        try:
            self.proc = subprocess.Popen([sys.executable, "-m", "genesys.verify.zygote", *preload], env=env,
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr,
                                         start_new_session=True, preexec_fn=die_with_parent)
        finally:
            if log:
                stderr.close()
        self._buffer, self._exits, self._started, self._next_id = b"", {}, {}, 0
        self._ready = False
        self._read_until(lambda: self._ready, READY_DEADLINE_S, "finish its imports")

    def _read(self, timeout: float) -> bool:
        """Take in what the zygote has said within `timeout`; False when it said nothing (or is gone)."""
        fd = self.proc.stdout.fileno()
        readable, _, _ = select.select([fd], [], [], timeout)
        if not readable:
            return False
        chunk = os.read(fd, 65536)
        if not chunk:
            return False
        self._buffer += chunk
        while b"\n" in self._buffer:
            line, self._buffer = self._buffer.split(b"\n", 1)
            message = json.loads(line)
            if message.get("ready"):
                self._ready = True
            elif "exit" in message:
                self._exits[message["exit"]] = message["returncode"]
            else:
                self._started[message["id"]] = message["pid"]
        return True

    def _read_until(self, done, deadline_s: float, what: str) -> None:
        deadline = time.monotonic() + deadline_s
        while not done():
            if self.proc.poll() is not None:
                raise ZygoteError(f"the verification zygote exited (code {self.proc.returncode}) before it could {what}")
            if time.monotonic() > deadline:
                self.close()
                raise ZygoteError(f"the verification zygote did not {what} within {deadline_s:.0f} s")
            self._read(0.1)

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def start(self, module: str, argv: List[str], env: Dict[str, str], log, cwd: Optional[str] = None) -> ZygoteChild:
        request_id, self._next_id = self._next_id, self._next_id + 1
        request = {"id": request_id, "module": module, "argv": list(argv), "env": dict(env),
                   "cwd": cwd or os.getcwd(), "log": str(log)}
        try:
            self.proc.stdin.write((json.dumps(request) + "\n").encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise ZygoteError(f"the verification zygote is gone ({exc})") from exc
        self._read_until(lambda: request_id in self._started, START_DEADLINE_S, "start a child")
        return ZygoteChild(self, self._started.pop(request_id), [module, *argv])

    def exit_code(self, pid: int) -> Optional[int]:
        """The child's exit code once reaped, None while it runs. If the zygote died first, its children died with
        it (PDEATHSIG): that is raised as a ZygoteError, the failure of this machinery, not of the design."""
        dead = not self.alive              # looked at first: once dead, everything it said is in the pipe
        while self._read(0) and dead:
            pass
        if pid in self._exits:
            return self._exits.pop(pid)
        if dead and _gone(pid):
            raise ZygoteError(f"the verification zygote died (code {self.proc.returncode}) while its child {pid} ran")
        return None

    def close(self) -> None:
        if self.alive:
            try:
                self.proc.stdin.close()      # the zygote's loop ends on EOF
                self.proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


if __name__ == "__main__":
    serve(tuple(sys.argv[1:]) or PRELOAD)
