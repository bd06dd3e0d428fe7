"""The checker's report: one record per check (pass / warn / fail, time, hint), rendered as JSON or text.

Pure data: no I/O, no torch. The JSON form is the CLI contract of DESIGN §5:
`{"valid", "errors": [{"category", "check", "message"}], "warnings": [...], "timings": {...}}` plus extras
(`checks`, `fixes`, `metrics`, `design`, `sandbox`) that tools may use.
"""
from __future__ import annotations

import dataclasses
import json
from typing import Any, Dict, List, Optional

CATEGORIES = ("format", "security", "init", "forward", "shape", "numerics", "causality", "gradient",
              "efficiency", "training", "timeout", "memory")
PASS, WARN, FAIL = "pass", "warn", "fail"


@dataclasses.dataclass
class Finding:
    """One error or warning. `line` is 1-based in `file` when the finding points at source code."""

    category: str
    check: str
    message: str
    hint: str = ""
    file: Optional[str] = None
    line: Optional[int] = None

    def __post_init__(self):
        if self.category not in CATEGORIES:
            raise ValueError(f"unknown category {self.category!r}; expected one of {CATEGORIES}")

    def to_dict(self) -> dict:
        return {k: v for k, v in dataclasses.asdict(self).items() if v not in (None, "")}

    def where(self) -> str:
        if self.file and self.line:
            return f"{self.file}:{self.line}: "
        return f"{self.file}: " if self.file else ""


@dataclasses.dataclass
class CheckResult:
    """The outcome of one named check: its findings decide its status."""

    check: str
    seconds: float = 0.0
    errors: List[Finding] = dataclasses.field(default_factory=list)
    warnings: List[Finding] = dataclasses.field(default_factory=list)
    skipped: str = ""  # why it did not run (an earlier failure, or skipped by the options)

    @property
    def status(self) -> str:
        if self.skipped:
            return "skip"
        return FAIL if self.errors else WARN if self.warnings else PASS

    def to_dict(self) -> dict:
        out = {"check": self.check, "status": self.status, "seconds": round(self.seconds, 4)}
        if self.skipped:
            out["skipped"] = self.skipped
        return out


@dataclasses.dataclass
class Fix:
    """An automatic fix applied to a copy of the source."""

    file: str
    line: int
    message: str

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class Report:
    design: str
    checks: List[CheckResult] = dataclasses.field(default_factory=list)
    fixes: List[Fix] = dataclasses.field(default_factory=list)
    metrics: Dict[str, Any] = dataclasses.field(default_factory=dict)
    timings: Dict[str, float] = dataclasses.field(default_factory=dict)
    sandbox: Dict[str, Any] = dataclasses.field(default_factory=dict)
    fixed_sources: Dict[str, str] = dataclasses.field(default_factory=dict)  # file -> source after auto-fixes

    @property
    def errors(self) -> List[Finding]:
        return [f for c in self.checks for f in c.errors]

    @property
    def warnings(self) -> List[Finding]:
        return [f for c in self.checks for f in c.warnings]

    @property
    def valid(self) -> bool:
        return not self.errors

    def categories(self) -> List[str]:
        """The distinct error categories, in order of first appearance."""
        return list(dict.fromkeys(f.category for f in self.errors))

    def to_dict(self) -> dict:
        return {
            "valid": self.valid,
            "errors": [f.to_dict() for f in self.errors],
            "warnings": [f.to_dict() for f in self.warnings],
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
            "design": self.design,
            "checks": [c.to_dict() for c in self.checks],
            "fixes": [f.to_dict() for f in self.fixes],
            "metrics": self.metrics,
            "sandbox": self.sandbox,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), default=str)

    def to_text(self) -> str:
        """The human report: every check with its status and time, then each finding with its hint."""
        lines = [f"design {self.design}: {'VALID' if self.valid else 'INVALID'}"]
        for fix in self.fixes:
            lines.append(f"  fixed  {fix.file}:{fix.line}: {fix.message}")
        for c in self.checks:
            note = f"  ({c.skipped})" if c.skipped else ""
            lines.append(f"  {c.status:<5} {c.check:<24} {c.seconds:7.2f}s{note}")
            for kind, findings in (("error", c.errors), ("warn", c.warnings)):
                for f in findings:
                    lines.append(f"      {kind} [{f.category}] {f.where()}{f.message}")
                    if f.hint:
                        lines.append(f"        hint: {f.hint}")
        if self.metrics:
            lines.append("  metrics: " + ", ".join(f"{k}={_fmt(v)}" for k, v in sorted(self.metrics.items())))
        total = self.timings.get("total")
        if total is not None:
            lines.append(f"  total {total:.2f}s")
        return "\n".join(lines)


def _fmt(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)
