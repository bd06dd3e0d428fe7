"""In-child defences installed before any design code runs: an audit hook and a blocked socket layer.

The kernel-level isolation (namespaces, read-only mounts, no capabilities) is set up by the parent where the
machine allows it; this is the second layer that holds everywhere: no file writes outside the scratch
directory, no processes, no sockets, no native-library loading, no fresh imports of dangerous modules.
"""
from __future__ import annotations

import os
import socket
import sys

_BLOCKED_EVENTS = {
    "subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty",
    "os.kill", "os.killpg", "pty.spawn", "ctypes.dlopen", "ctypes.dlsym", "ctypes.cdata", "ctypes.call_function",
    "socket.__new__", "socket.connect", "socket.bind", "socket.sendto", "socket.getaddrinfo",
    "socket.gethostbyname", "urllib.Request", "os.setuid", "os.chroot", "sys._current_frames",
    "sys.setprofile", "sys.settrace", "os.putenv", "os.unsetenv",
}
_PATH_EVENTS = {"os.remove", "os.rename", "os.rmdir", "os.mkdir", "shutil.rmtree", "os.chmod", "os.chown",
                "os.truncate", "os.symlink", "os.link", "os.utime", "shutil.copyfile", "shutil.move"}
_BLOCKED_IMPORTS = {"subprocess", "socket", "ctypes", "multiprocessing", "pty", "urllib", "http", "requests",
                    "shutil", "pickle", "marshal", "importlib", "runpy", "webbrowser", "ssl", "asyncio", "signal"}
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


class SandboxViolation(PermissionError):
    """Design code tried something the sandbox forbids."""


def isolation_report(host_ns: dict, scratch: str) -> dict:
    """What the kernel gave us: own network / mount namespace, and whether writes outside scratch fail."""
    own = {k: os.stat(f"/proc/self/ns/{k}").st_ino for k in host_ns if os.path.exists(f"/proc/self/ns/{k}")}
    probe = os.path.join(os.path.dirname(scratch.rstrip("/")), f".genesys-probe-{os.getpid()}")
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT)
        os.close(fd)
        os.unlink(probe)
        read_only = False
    except OSError:
        read_only = True
    return {"network": "namespace" if own.get("net") != host_ns.get("net") else "socket-blocked",
            "filesystem": "read-only outside scratch" if read_only else "audit-hook",
            "audit_hook": True}


def install(scratch: str) -> None:
    """Install the audit hook and block sockets. Irreversible for the life of the process."""
    scratch = os.path.realpath(scratch)
    allowed_dev = ("/dev/null",)

    def inside(path) -> bool:
        if isinstance(path, int):
            return True  # an already-open descriptor
        try:
            real = os.path.realpath(os.fsdecode(path))
        except (TypeError, ValueError):
            return False
        return real == scratch or real.startswith(scratch + os.sep) or real in allowed_dev

    def hook(event: str, args: tuple) -> None:
        if event == "open":
            path, mode, flags = (tuple(args) + (None, None, 0))[:3]
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or bool((flags or 0) & _WRITE_FLAGS)
            if writing and path is not None and not inside(path):
                raise SandboxViolation(f"sandbox: writing {path!r} outside the scratch directory is not allowed")
        elif event in _BLOCKED_EVENTS:
            raise SandboxViolation(f"sandbox: {event} is not allowed")
        elif event in _PATH_EVENTS:
            if not all(inside(a) for a in args[:2] if isinstance(a, (str, bytes, os.PathLike))):
                raise SandboxViolation(f"sandbox: {event} outside the scratch directory is not allowed")
        elif event == "import":
            name = args[0] if args else ""
            if isinstance(name, str) and name.split(".")[0] in _BLOCKED_IMPORTS:
                raise SandboxViolation(f"sandbox: importing {name!r} is not allowed")

    def no_socket(*args, **kwargs):
        raise SandboxViolation("sandbox: network access is not allowed")

    socket.socket = no_socket  # type: ignore[assignment]
    socket.create_connection = no_socket  # type: ignore[assignment]
    sys.addaudithook(hook)
