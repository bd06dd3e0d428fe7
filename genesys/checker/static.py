"""Static level of the checker: parse, format rules, security, and safe auto-fixes. Never executes code.

`check_unit_source` works on one unit file's text and returns the fixed text with its findings and fixes;
line numbers in findings refer to the file as given (fixes are reported separately with their lines).
"""
from __future__ import annotations

import ast
import builtins
import dataclasses
from typing import Iterable, List, Optional, Set

from genesys.checker import fixes as fx
from genesys.checker.report import Finding, Fix
from genesys.checker.security import import_allowed, security_findings

_MODULE_BASES = ("nn.", "torch.nn.")
_BUILTINS = set(dir(builtins))
_CANONICAL_KW = {"embed_dim", "block_loc", "kwarg_all"}
_FACTORY_KW = {"device", "dtype"}


@dataclasses.dataclass
class StaticResult:
    source: str                      # after auto-fixes
    errors: List[Finding]
    warnings: List[Finding]
    fixes: List[Fix]
    unit: Optional[str] = None       # the GAUBase subclass's name


def _base_name(base: ast.expr) -> str:
    return ast.unparse(base)


def _is_gau(cls: ast.ClassDef) -> bool:
    return any(_base_name(b).split(".")[-1] == "GAUBase" for b in cls.bases)


def declared_children(module: ast.Module) -> List[str]:
    """Unit names declared in the file's CHILDREN_DECLARATIONS (UnitDecl calls) or CHILDREN literal."""
    names: List[str] = []
    for stmt in module.body:
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)):
            continue
        target = stmt.targets[0].id
        if target == "CHILDREN_DECLARATIONS" and isinstance(stmt.value, (ast.List, ast.Tuple)):
            for call in stmt.value.elts:
                if isinstance(call, ast.Call):
                    arg = call.args[0] if call.args else next(
                        (k.value for k in call.keywords if k.arg == "unitname"), None)
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                        names.append(arg.value)
        elif target == "CHILDREN" and isinstance(stmt.value, (ast.List, ast.Tuple)):
            names.extend(e.value for e in stmt.value.elts if isinstance(e, ast.Constant) and isinstance(e.value, str))
    return list(dict.fromkeys(names))


def _method(cls: ast.ClassDef, name: str) -> Optional[ast.FunctionDef]:
    return next((s for s in cls.body if isinstance(s, ast.FunctionDef) and s.name == name), None)


def _is_canonical(call: ast.Call) -> bool:
    kws = {k.arg: ast.unparse(k.value) for k in call.keywords if k.arg}
    stars = {ast.unparse(k.value) for k in call.keywords if k.arg is None}
    return (not call.args and kws.get("embed_dim") == "self.embed_dim" and kws.get("block_loc") == "self.block_loc"
            and kws.get("kwarg_all") == "self.kwarg_all" and "self.kwarg_all" in stars
            and ("self.factory_kwargs" in stars or {"device", "dtype"} <= set(kws)))


def check_unit_source(source: str, file: str, design_units: Iterable[str] = (),
                      declared: Optional[List[str]] = None, original: bool = False) -> StaticResult:
    """Run every static check on one unit file. `declared` overrides the file's own declarations (trees).
    `original`: the design was written for the original release, whose units may override forward()."""
    errors: List[Finding] = []
    warnings: List[Finding] = []
    fixed, fixes = fx.original_import_fix(source, file)
    for fix in (fx.class_name_fix, lambda src, f: fx.optional_import_fix(src, f, import_allowed)):
        fixed, more = fix(fixed, file)
        fixes += more
    err = lambda msg, hint, line=None, cat="format", check="format": errors.append(  # noqa: E731
        Finding(cat, check, msg, hint, file, line))
    try:
        module = ast.parse(fixed)
    except SyntaxError as exc:
        err(f"syntax error: {exc.msg}", "Fix the Python syntax at this line; the file must parse on its own.",
            exc.lineno, check="parse")
        return StaticResult(source, errors, [], fixes)
    errors.extend(security_findings(module, file))
    gau_classes = [c for c in module.body if isinstance(c, ast.ClassDef) and _is_gau(c)]
    if len(gau_classes) != 1:
        names = [c.name for c in gau_classes]
        err(f"expected exactly one GAUBase subclass at the top level, found {len(gau_classes)} {names}",
            "Put each unit in its own file; declare the others as children (CHILDREN_DECLARATIONS).",
            gau_classes[1].lineno if len(gau_classes) > 1 else None, check="structure")
        return StaticResult(source, errors, [], fixes)
    cls = gau_classes[0]
    units = set(design_units) | {cls.name}
    for node in ast.walk(module):
        if isinstance(node, ast.ClassDef) and node is not cls:
            bases = [_base_name(b) for b in node.bases]
            if any(b.startswith(_MODULE_BASES) or b.split(".")[-1] in ("Module", "GAUBase") or b in units
                   for b in bases):
                err(f"class {node.name} ({', '.join(bases)}) is an extra nn.Module inside the unit",
                    "A unit file defines one GAUBase subclass; make other modules their own units (declared as "
                    "children) or use torch.nn building blocks directly.", node.lineno, check="structure")
    edits: List[fx.Edit] = []
    lines = fixed.splitlines()
    forward, _forward = _method(cls, "forward"), _method(cls, "_forward")
    override = forward or _method(cls, "__call__")
    if original and override is not None:
        warnings.append(Finding("format", "structure", f"{cls.name} overrides {override.name}(): allowed for "
                                "designs in the original release's format, but GAUBase's shape and Z checks are "
                                "bypassed for this unit", "In our format implement _forward(self, X, **Z) instead.",
                                file, override.lineno))
        forward = None
        _forward = _forward or override
    if forward is not None and _forward is None:
        edits.append(fx.rename_forward(forward, lines, file))
        _forward = forward
    elif forward is not None:
        err(f"{cls.name} overrides forward()", "Remove forward(); GAUBase.forward is final and calls "
            "_forward(self, X, **Z).", forward.lineno, check="structure")
    if _forward is None:
        err(f"{cls.name} has no _forward method", "Implement `def _forward(self, X, **Z)` returning Y or (Y, Z).",
            cls.lineno, check="structure")
    elif _forward is not override:
        a = _forward.args
        if len(a.posonlyargs) + len(a.args) < 2:
            err(f"{cls.name}._forward must take (self, X, **Z)", "Use `def _forward(self, X, **Z)`.",
                _forward.lineno, check="structure")
        elif a.kwarg is None:
            edits.append(fx.add_var_kwargs(_forward, file))
    init = _method(cls, "__init__")
    declared = declared_children(module) if declared is None else list(declared)
    bound = fx.bound_names(module)
    instantiated = []
    for node in ast.walk(cls):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            name = node.func.id
            if name in units - {cls.name} or name in declared or (
                    name[:1].isupper() and name not in bound and name not in _BUILTINS):
                instantiated.append((name, node))
    for name, call in instantiated:
        if name not in declared:
            err(f"{cls.name} instantiates {name}, which is not a declared child",
                f"Add UnitDecl(unitname='{name}', ...) to CHILDREN_DECLARATIONS, or use a torch.nn module.",
                call.lineno, check="children")
        elif not _is_canonical(call):
            extra = {k.arg for k in call.keywords if k.arg} - _CANONICAL_KW - _FACTORY_KW
            if extra:
                err(f"child {name} is instantiated with extra arguments {sorted(extra)}",
                    "Children get their hyper-parameters from kwarg_all: put them in the child's ARGS (or the "
                    "design's args) and instantiate it in the canonical form " + fx.CANONICAL_CALL.format(name=name),
                    call.lineno, check="children")
            elif init is None or not _assigns_factory_kwargs(init):
                err(f"child {name} is not instantiated in the canonical form and __init__ has no "
                    "self.factory_kwargs", "Set self.factory_kwargs = {'device': device, 'dtype': dtype} first, then "
                    + fx.CANONICAL_CALL.format(name=name), call.lineno, check="children")
            else:
                edits.append(fx.canonical_call(call, name, file))
    for name in declared:
        if name not in {n for n, _ in instantiated}:
            err(f"declared child {name} is never instantiated by {cls.name}",
                f"Instantiate it in __init__ as self.x = {fx.CANONICAL_CALL.format(name=name)}, or remove the "
                "declaration.", cls.lineno, check="children")
    if errors:
        return StaticResult(source, errors, warnings, fixes, cls.name)
    fixed = fx.apply_edits(fixed, edits)
    fixes += [e.fix for e in sorted(edits, key=lambda e: e.start)]
    fixed, import_fixes = fx.insert_imports(fixed, fx.missing_imports(ast.parse(fixed)), file)
    fixes += import_fixes
    return StaticResult(fixed, errors, warnings, fixes, cls.name)


def _assigns_factory_kwargs(init: ast.FunctionDef) -> bool:
    return any(isinstance(n, ast.Attribute) and n.attr == "factory_kwargs" and isinstance(n.ctx, ast.Store)
               for n in ast.walk(init))
