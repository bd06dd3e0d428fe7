"""`check(path_or_tree, **options) -> Report`: the checker for designers, tools and the CLI.

Only static work happens in this process (parsing, format and security checks, auto-fixes, composition); the
composed design runs only inside the sandboxed child (sandbox.py), which also measures the gpt2 reference.
"""
from __future__ import annotations

import ast
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple, Union

from genesys.checker.config import load_config
from genesys.checker.report import CheckResult, Finding, Report
from genesys.checker.sandbox import Limits, run_child
from genesys.checker.static import check_unit_source
from genesys.gau import DesignLoadError, GAUTree, TreeError, compose, load_design, parse_unit_source
from genesys.gau.design_io import ORIGINAL, design_semantics, read_metadata, unit_files
from genesys.paths import resolve_design

PHASES = ("init", "forward", "causality", "gradient", "determinism", "efficiency", "long_context", "training",
          "unit_tests")
_DEATH_CATEGORY = {"timeout": "timeout", "memory": "memory", "crash": "forward"}
_DEATH_HINT = {
    "timeout": "The phase did not finish in time: look for unbounded loops, Python loops over positions, or "
               "cost far above the gpt2 reference.",
    "memory": "The design exhausted the sandbox's memory: look for tensors whose size grows with L^2 * D or more, "
              "or allocations sized by a hyper-parameter.",
    "crash": "The interpreter died (a native crash); avoid low-level tensor tricks such as as_strided with "
             "invalid sizes.",
}


def check(target: Union[str, Path, GAUTree], dotlist: Tuple[str, ...] = (), **options) -> Report:
    """Check a unit .py file, a design folder, or a GAUTree (partial trees compose with placeholders).

    `options` override conf/check/default.yaml (nested dicts for groups, e.g. `causality={"lengths": [7, 64]}`);
    `dotlist` takes Hydra-style strings such as `"efficiency.time_warn=2"`.
    """
    start = time.perf_counter()
    cfg = load_config(dotlist, options)
    report = Report(design=str(target.name if isinstance(target, GAUTree) else target))
    static = CheckResult("static")
    tree = _static_level(target, report, static)
    static.seconds = time.perf_counter() - start
    report.checks.append(static)
    report.timings["static"] = static.seconds
    if tree is not None and not static.errors:
        report.design = tree.name
        try:
            source = compose(tree)
        except (TreeError, SyntaxError) as exc:
            static.errors.append(Finding("format", "compose", f"the design does not compose: {exc}",
                                         "Two units give one hyper-parameter different defaults; rename one."))
            source = None
        if source is not None and not cfg["static_only"]:
            _runtime_level(tree, source, cfg, report)
    report.timings["total"] = time.perf_counter() - start
    return report


# ---- static level ---------------------------------------------------------------------------------------
def _static_level(target, report: Report, result: CheckResult) -> Optional[GAUTree]:
    """Static checks of every unit; returns the (auto-fixed) tree, or None when it cannot be built."""
    if isinstance(target, GAUTree):
        return _static_tree(target, report, result)
    path = Path(target)
    if path.is_file() and path.suffix == ".py":
        files = {path: path.read_text()}
    elif path.is_dir():
        try:
            files = {p: p.read_text() for p in unit_files(path)}
            meta = read_metadata(path)
        except DesignLoadError as exc:
            result.errors.append(Finding("format", "structure", str(exc),
                                         "A design folder holds metadata.yaml and units/<Unit>.py files."))
            return None
    else:
        raise FileNotFoundError(f"{path}: not a unit .py file or a design folder")
    names = _unit_names(files)
    original = design_semantics(path, list(files.values()), meta if path.is_dir() else None) == ORIGINAL
    fixed: Dict[Path, str] = {}
    for file, text in files.items():
        res = check_unit_source(text, str(file), design_units=names, original=original)
        result.errors.extend(res.errors)
        result.warnings.extend(res.warnings)
        report.fixes.extend(res.fixes)
        fixed[file] = res.source
        if res.fixes:
            report.fixed_sources[str(file)] = res.source
    if result.errors:
        return None
    try:
        return _build_tree(path, fixed, ORIGINAL if original else "genesys")
    except DesignLoadError as exc:
        result.errors.append(Finding("format", "structure", str(exc), "Fix the design folder layout or metadata."))
        return None


def _unit_names(files: Dict[Path, str]) -> List[str]:
    names = []
    for text in files.values():
        try:
            names += [c.name for c in ast.parse(text).body if isinstance(c, ast.ClassDef)]
        except SyntaxError:
            pass
    return names


def _build_tree(path: Path, fixed: Dict[Path, str], semantics: str) -> GAUTree:
    """The GAUTree from fixed sources, read the way genesys.gau.load_design reads the originals."""
    if path.is_file():
        node = parse_unit_source(fixed[path], str(path))
        return GAUTree(name=path.stem, root=node.name, units={node.name: node}, semantics=semantics)
    tree = load_design(path)  # metadata, root and layout checks; then swap in the fixed code
    for file, text in fixed.items():
        node = parse_unit_source(text, str(file))
        if node.name in tree.units:
            tree.units[node.name] = node
    return tree


def _static_tree(tree: GAUTree, report: Report, result: CheckResult) -> Optional[GAUTree]:
    tree = tree.copy()
    names = list(tree.units) + list(tree.declares)
    for name, node in tree.units.items():
        res = check_unit_source(node.code, f"<unit {name}>", design_units=names,
                                declared=[d.unitname for d in node.decls] or list(node.children),
                                original=tree.semantics == ORIGINAL)
        result.errors.extend(res.errors)
        result.warnings.extend(res.warnings)
        report.fixes.extend(res.fixes)
        if res.fixes:
            node.code = res.source
            report.fixed_sources[name] = res.source
    return None if result.errors else tree


# ---- runtime level --------------------------------------------------------------------------------------
def _reference_source(cfg: dict) -> str:
    return compose(load_design(resolve_design(cfg["reference"])))


def _runtime_level(tree: GAUTree, source: str, cfg: dict, report: Report) -> None:
    """Run the composed source in the sandboxed child and fold its results into the report. `source` is
    always compose(tree) here; the sandbox tests pass hand-made sources to test the second wall alone."""
    sb = cfg["sandbox"]
    limits = Limits(memory_gb=sb["memory_gb"], cpu_seconds=sb["cpu_seconds"], file_mb=sb["file_mb"],
                    threads=sb["threads"], startup_timeout=cfg["timeouts"]["startup"], isolate=sb["isolate"])
    job = {"design_source": source, "reference_source": _reference_source(cfg), "tree": tree.to_dict(),
           "config": cfg}
    outcome = run_child(job, cfg["timeouts"], limits)
    report.sandbox = dict(outcome.sandbox)
    report.timings["runtime"] = outcome.seconds
    seen = set()
    for result in outcome.results:
        seen.add(result["phase"])
        report.metrics.update(result.get("metrics", {}))
        phase_seconds = 0.0
        for c in result["checks"]:
            check = CheckResult(c["check"], seconds=c["seconds"], skipped=c.get("skipped", ""),
                                errors=[Finding(**f) for f in c["errors"]],
                                warnings=[Finding(**f) for f in c["warnings"]])
            report.checks.append(check)
            phase_seconds += check.seconds
        report.timings[result["phase"]] = phase_seconds
    if outcome.death:
        phase = outcome.died_in
        cat = _DEATH_CATEGORY[outcome.death]
        tail = outcome.log_tail.strip().splitlines()[-1:] if outcome.death == "crash" else []
        report.checks.append(CheckResult(phase, seconds=0.0, errors=[Finding(
            cat, phase, f"{outcome.detail} (during {phase})" + (f": {tail[0][:300]}" if tail else ""),
            _DEATH_HINT[outcome.death])]))
        for name in PHASES:
            if name not in seen and name != phase:
                report.checks.append(CheckResult(name, skipped=f"not run: the child died during {phase}"))
