"""The second wall alone: design code that the static level would refuse is run directly in the sandboxed
child (as if the static checks had a hole), and every escape must fail without any effect outside it."""
import os
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from genesys.checker.api import PHASES, _runtime_level
from genesys.checker.config import load_config
from genesys.checker.report import Report
from genesys.gau import compose, load_design
from genesys.paths import SEEDS_DIR

ESCAPES = '''
import os, sys
_outcomes = {}
def _try(name, fn):
    try:
        fn()
        _outcomes[name] = "succeeded"
    except BaseException as exc:
        _outcomes[name] = "blocked: " + type(exc).__name__
_try("open_write", lambda: open(SENTINEL + ".open", "w").write("x"))
_try("os_open", lambda: os.close(os.open(SENTINEL + ".osopen", os.O_WRONLY | os.O_CREAT)))
_try("os_system", lambda: os.system("touch " + SENTINEL + ".system"))
_try("subprocess", lambda: __import__("subprocess").run(["touch", SENTINEL + ".subprocess"]))
_try("ctypes_system", lambda: __import__("ctypes").CDLL(None).system(("touch " + SENTINEL + ".ctypes").encode()))
_try("socket", lambda: __import__("socket").create_connection(("127.0.0.1", PORT), timeout=2).sendall(b"hello"))
_try("raw_socket", lambda: __import__("_socket").socket().connect(("127.0.0.1", PORT)))
_try("kill", lambda: os.kill(VICTIM, 9))
_try("fork", lambda: os.fork() or os._exit(0))
_try("remove_outside", lambda: os.remove(PROTECTED))
raise RuntimeError("SECRET " + repr(os.environ.get("GENESYS_TEST_SECRET")) + " BLOCKED " + str(sum(
    v.startswith("blocked") for v in _outcomes.values())) + " SUCCEEDED " + repr([k for k, v in _outcomes.items() if v == "succeeded"]))
'''


@pytest.fixture
def listener():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(0.5)
    yield server
    server.close()


def test_escapes_from_inside_the_child_have_no_effect(listener, tmp_path, monkeypatch):
    sentinel = str(Path(tempfile.gettempdir()) / f"genesys_sandbox_sentinel_{os.getpid()}")
    protected = tmp_path / "protected.txt"
    protected.write_text("keep me")
    victim = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    monkeypatch.setenv("GENESYS_TEST_SECRET", "s3cret")
    try:
        tree = load_design(SEEDS_DIR / "gpt2")
        header = (f"SENTINEL = {sentinel!r}\nPORT = {listener.getsockname()[1]}\nVICTIM = {victim.pid}\n"
                  f"PROTECTED = {str(protected)!r}\n")
        source = compose(tree) + header + ESCAPES
        cfg = load_config(overrides={"skip": [p for p in PHASES if p != "init"]})
        report = Report(design="escapes")
        _runtime_level(tree, source, cfg, report)
        message = " ".join(e.message for e in report.errors)
        assert "BLOCKED 10 SUCCEEDED []" in message, report.to_text()
        assert "SECRET None" in message, message  # the environment was scrubbed
        for suffix in (".open", ".osopen", ".system", ".subprocess", ".ctypes"):
            assert not Path(sentinel + suffix).exists(), suffix
        with pytest.raises(socket.timeout):
            listener.accept()
        assert victim.poll() is None, "the victim process was killed from the sandbox"
        assert protected.read_text() == "keep me"
        assert report.sandbox.get("audit_hook") is True
    finally:
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        for suffix in (".open", ".osopen", ".system", ".subprocess", ".ctypes"):
            Path(sentinel + suffix).unlink(missing_ok=True)


def test_kernel_isolation_where_available():
    """As root on Linux the child gets its own network namespace and a read-only view outside scratch."""
    if os.geteuid() != 0:
        pytest.skip("namespaces need root here; the audit hook and socket block still apply")
    tree = load_design(SEEDS_DIR / "gpt2")
    cfg = load_config(overrides={"skip": list(PHASES)})
    report = Report(design="gpt2")
    _runtime_level(tree, compose(tree), cfg, report)
    assert report.sandbox["network"] == "namespace"
    assert report.sandbox["filesystem"] == "read-only outside scratch"
