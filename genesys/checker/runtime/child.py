"""Entry point of the sandboxed child: load the composed design and run every runtime phase in one process
(importing torch costs seconds; one child per design keeps a full check fast)."""
from __future__ import annotations

import dataclasses
import importlib
import io
import json
import os
import sys
import time

import torch

import genesys.gau  # noqa: F401  (imported before the guard: later imports of it would be fresh imports)
from genesys.checker.report import CheckResult
from genesys.checker.runtime import guard
from genesys.checker.runtime.causality import check_causality
from genesys.checker.runtime.common import classify
from genesys.checker.runtime.determinism import check_determinism
from genesys.checker.runtime.efficiency import check_efficiency
from genesys.checker.runtime.forward import check_forward, check_init, check_long_context
from genesys.checker.runtime.gradient import check_gradient
from genesys.checker.runtime.training import check_training
from genesys.checker.runtime.unit_tests import check_unit_tests
from genesys.checker.security import ALLOWED_MEMBERS
from genesys.gau.build import load_module

PHASES = (("init", check_init), ("forward", check_forward), ("causality", check_causality),
          ("gradient", check_gradient), ("determinism", check_determinism), ("efficiency", check_efficiency),
          ("long_context", check_long_context), ("training", check_training), ("unit_tests", check_unit_tests))
GATES = ("init", "forward")  # later runtime phases need these to pass


@dataclasses.dataclass
class Context:
    cfg: dict
    tree: dict
    module: object = None
    ref_module: object = None
    lm: object = None
    metrics: dict = dataclasses.field(default_factory=dict)
    infeasible: str = ""  # set by the efficiency phase when the design is too costly to run at long lengths


class _CappedWriter(io.TextIOBase):
    """Where design prints go: the log, truncated after a megabyte (a print loop cannot fill the disk)."""

    def __init__(self, stream, limit: int = 1 << 20):
        self.stream, self.left = stream, limit

    def write(self, text: str) -> int:
        if self.left > 0:
            self.stream.write(text[:self.left])
            self.left -= len(text)
        return len(text)

    def flush(self) -> None:
        self.stream.flush()


def _result(phase: str, checks, metrics: dict) -> dict:
    return {"phase": phase, "metrics": metrics,
            "checks": [{"check": c.check, "seconds": c.seconds, "skipped": c.skipped,
                        "errors": [f.to_dict() for f in c.errors],
                        "warnings": [f.to_dict() for f in c.warnings]} for c in checks]}


def main(fd: int) -> None:
    channel = os.fdopen(fd, "w", buffering=1)
    emit = lambda msg: channel.write(json.dumps(msg, default=str) + "\n")  # noqa: E731
    with open("job.json") as f:
        job = json.load(f)
    cfg = job["config"]
    torch.set_num_threads(int(cfg["sandbox"]["threads"]))
    emit({"sandbox": guard.isolation_report(job["host_ns"], job["scratch"])})
    _prewarm()
    _preimport_allowed_members(job["design_source"])
    guard.install(job["scratch"])
    sys.stdout = sys.stderr = _CappedWriter(sys.stderr)
    ctx = Context(cfg=cfg, tree=job["tree"])
    failed_gate = None
    for name, run in PHASES:
        if name in cfg["skip"]:
            emit({"result": _result(name, [CheckResult(name, skipped="skipped by options")], {})})
            continue
        if failed_gate and name != "unit_tests":
            emit({"result": _result(name, [CheckResult(name, skipped=f"{failed_gate} failed")], {})})
            continue
        emit({"start": name})
        start = time.perf_counter()
        if name == "init":
            checks = _load(ctx, job)
            checks = checks or run(ctx)
        else:
            try:
                checks = run(ctx)
            except Exception as exc:  # a check that crashed on design behaviour is a finding of that phase
                checks = [CheckResult(name, errors=[classify(exc, name)])]
        if len(checks) == 1 and not checks[0].seconds:
            checks[0].seconds = time.perf_counter() - start
        if name in GATES and any(c.errors for c in checks):
            failed_gate = name
        emit({"result": _result(name, checks, dict(ctx.metrics))})
        ctx.metrics.clear()
    emit({"start": "done"})
    channel.close()


def _prewarm() -> None:
    """Exercise the torch machinery the checks use, so its lazy imports happen before the guard is up."""
    from genesys.checker.runtime.common import float64_context, float64_copy
    from genesys.checker.runtime.memory import PeakMemory
    with float64_context():  # the causality probe's float64 repeat: deepcopy, dtype conversion, dispatch mode
        float64_copy(torch.nn.Linear(4, 4))(torch.ones(2, 4).float()).sum()
    p = torch.nn.Parameter(torch.randn(4, 4))
    opt = torch.optim.AdamW([p], lr=1e-3)
    with PeakMemory():
        loss = torch.nn.functional.cross_entropy(p, torch.zeros(4, dtype=torch.long))
        (g,) = torch.autograd.grad(loss, p, retain_graph=True)
        loss.backward()
    torch.nn.utils.clip_grad_norm_([p], 1.0)
    opt.step()


def _preimport_allowed_members(source: str) -> None:
    """Import the few allowed members of otherwise refused modules (security.ALLOWED_MEMBERS) that the design
    names, before the guard is up: their packages import modules the guard refuses to a design (transformers
    imports http.cookiejar), and the design then gets the cached module."""
    for module in ALLOWED_MEMBERS:
        if module in source:
            try:
                importlib.import_module(module)
            except ImportError:
                pass  # the design's own import then fails with a clear ImportError


def _load(ctx: Context, job: dict):
    """Execute the composed design (and the gpt2 reference) as modules; a failure is an init finding."""
    result = CheckResult("init")
    try:
        ctx.ref_module = load_module(job["reference_source"], "reference")
    except Exception as exc:
        raise RuntimeError(f"the reference design does not load: {exc}") from exc
    try:
        ctx.module = load_module(job["design_source"], job["tree"]["name"])
    except Exception as exc:
        result.errors.append(classify(exc, "init", default="init"))
        return [result]
    return None
