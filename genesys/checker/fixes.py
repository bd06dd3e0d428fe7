"""Safe automatic fixes of unit source, as text edits that keep the author's layout.

Each fix returns the new source and a Fix record with the line it touched in the *original* file. Edits are
applied bottom-up so earlier line numbers stay valid; import insertions come last (they shift everything).
"""
from __future__ import annotations

import ast
import re
from typing import Dict, List, Set, Tuple

from genesys.checker.report import Fix
from genesys.gau.design_io import rewrite_original_imports

CANONICAL_CALL = ("{name}(embed_dim=self.embed_dim, block_loc=self.block_loc, kwarg_all=self.kwarg_all, "
                  "**self.factory_kwargs, **self.kwarg_all)")
# Names a unit commonly uses without importing, and the import line that binds each.
KNOWN_IMPORTS: Dict[str, str] = {
    "torch": "import torch",
    "nn": "from torch import nn",
    "F": "import torch.nn.functional as F",
    "math": "import math",
    "einops": "import einops",
    "rearrange": "from einops import rearrange",
    "repeat": "from einops import repeat",
    "einsum": "from torch import einsum",
    "GAUBase": "from genesys.gau import GAUBase",
    "gau_test": "from genesys.gau import gau_test",
    "UnitDecl": "from genesys.gau import UnitDecl",
    "Optional": "from typing import Optional",
    "Tuple": "from typing import Tuple",
    "List": "from typing import List",
    "Dict": "from typing import Dict",
}


class Edit:
    """Replace source[start:end] (as (line, col) pairs, 1-based lines) with text."""

    def __init__(self, start: Tuple[int, int], end: Tuple[int, int], text: str, fix: Fix):
        self.start, self.end, self.text, self.fix = start, end, text, fix


def apply_edits(source: str, edits: List[Edit]) -> str:
    lines = source.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))

    def pos(lc: Tuple[int, int]) -> int:
        # ast columns are UTF-8 byte offsets; convert within the line
        line = lines[lc[0] - 1] if lc[0] - 1 < len(lines) else ""
        return offsets[lc[0] - 1] + len(line.encode()[:lc[1]].decode(errors="ignore"))

    for edit in sorted(edits, key=lambda e: e.start, reverse=True):
        a, b = pos(edit.start), pos(edit.end)
        source = source[:a] + edit.text + source[b:]
        lines = source.splitlines(keepends=True)
        offsets = [0]
        for line in lines:
            offsets.append(offsets[-1] + len(line))
    return source


def original_import_fix(source: str, file: str) -> Tuple[str, List[Fix]]:
    """The original release's `from model_discovery.model.utils.modules import ...` becomes ours."""
    fixed = rewrite_original_imports(source)
    if fixed == source:
        return source, []
    line = next(i for i, (a, b) in enumerate(zip(source.splitlines(), fixed.splitlines()), 1) if a != b)
    return fixed, [Fix(file, line, "rewrote the original Genesys import line to `from genesys.gau import ...`")]


def _rewrite(source: str, find_edits) -> Tuple[str, List[Fix]]:
    """Apply the edits `find_edits(module)` proposes on the parsed source (none if it does not parse)."""
    try:
        module = ast.parse(source)
    except SyntaxError:
        return source, []
    edits = find_edits(module)
    return apply_edits(source, edits), [e.fix for e in sorted(edits, key=lambda e: e.start)]


def class_name_fix(source: str, file: str) -> Tuple[str, List[Fix]]:
    """`obj.__class__.__name__` (common in __repr__) becomes `type(obj).__name__`: the same value, without the
    `__class__` attribute that the security level refuses (it is the first step of sandbox escapes)."""
    return _rewrite(source, lambda module: [_type_name_edit(node, file) for node in ast.walk(module) if (
        isinstance(node, ast.Attribute) and node.attr in ("__name__", "__qualname__")
        and isinstance(node.value, ast.Attribute) and node.value.attr == "__class__")])


def _type_name_edit(node: ast.Attribute, file: str) -> Edit:
    text = f"type({ast.unparse(node.value.value)}).{node.attr}"
    return Edit((node.lineno, node.col_offset), (node.end_lineno, node.end_col_offset), text,
                Fix(file, node.lineno, f"rewrote {ast.unparse(node)} as {text}"))


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    names = [] if handler.type is None else [ast.unparse(t) for t in (
        handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type])]
    return not names or any(n in ("ImportError", "ModuleNotFoundError", "Exception", "BaseException")
                            for n in names)


def optional_import_fix(source: str, file: str, allowed) -> Tuple[str, List[Fix]]:
    """An import of a module outside the allow-list inside `try: ... except ImportError:` (an optional fast
    kernel such as causal_conv1d) becomes `raise ImportError(...)`: the design takes its own fallback branch and
    the module is never imported. `allowed(module, names)` says whether an import statement is allowed."""
    return _rewrite(source, lambda module: [edit for node in ast.walk(module) if isinstance(node, ast.Try) and any(
        _catches_import_error(h) for h in node.handlers) for edit in _refused_imports(node, file, allowed)])


def _refused_imports(node: ast.Try, file: str, allowed) -> List[Edit]:
    """`raise ImportError` edits for the imports in a try body that the allow-list refuses."""
    edits = []
    for stmt in node.body:
        if isinstance(stmt, ast.Import) and all(allowed(a.name, None) for a in stmt.names):
            continue
        if isinstance(stmt, ast.ImportFrom) and stmt.level == 0 and allowed(stmt.module or "",
                                                                            [a.name for a in stmt.names]):
            continue
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            what = ast.unparse(stmt)
            text = f"raise ImportError({'optional import refused by the checker: ' + what!r})"
            edits.append(Edit((stmt.lineno, stmt.col_offset), (stmt.end_lineno, stmt.end_col_offset), text,
                              Fix(file, stmt.lineno, f"replaced the optional import `{what}` (not on the "
                                                     "allow-list) by `raise ImportError`; the design's own "
                                                     "fallback runs instead")))
    return edits


def bound_names(module: ast.Module) -> Set[str]:
    """Every name the module binds anywhere: imports, defs, classes, assignments, arguments."""
    bound: Set[str] = set()
    for node in ast.walk(module):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound.add(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
    return bound


def missing_imports(module: ast.Module) -> List[str]:
    """Known names that the unit uses but never binds (so the import line was forgotten)."""
    bound = bound_names(module)
    used = {n.id for n in ast.walk(module) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return sorted(name for name in used - bound if name in KNOWN_IMPORTS)


def insert_imports(source: str, names: List[str], file: str) -> Tuple[str, List[Fix]]:
    """Insert the import lines for `names` after the module docstring and __future__ imports."""
    if not names:
        return source, []
    module = ast.parse(source)
    at = 0
    for stmt in module.body:
        is_doc = isinstance(stmt, ast.Expr) and isinstance(getattr(stmt, "value", None), ast.Constant)
        is_future = isinstance(stmt, ast.ImportFrom) and stmt.module == "__future__"
        if (is_doc and at == 0) or is_future:
            at = stmt.end_lineno
        else:
            break
    lines = source.splitlines(keepends=True)
    new = [KNOWN_IMPORTS[n] + "\n" for n in names]
    source = "".join(lines[:at] + new + lines[at:])
    return source, [Fix(file, at + 1, f"added the missing import `{KNOWN_IMPORTS[n]}`") for n in names]


def signature_end(fn: ast.FunctionDef) -> Tuple[int, int]:
    """Where the last parameter (with its annotation or default) of fn ends."""
    a = fn.args
    nodes = [*a.posonlyargs, *a.args, *a.kwonlyargs, *a.defaults, *[d for d in a.kw_defaults if d is not None]]
    if a.vararg:
        nodes.append(a.vararg)
    last = max(nodes, key=lambda n: (n.end_lineno, n.end_col_offset))
    return last.end_lineno, last.end_col_offset


def add_var_kwargs(fn: ast.FunctionDef, file: str) -> Edit:
    end = signature_end(fn)
    return Edit(end, end, ", **Z", Fix(file, fn.lineno, f"added **Z to the signature of {fn.name} so Z entries "
                                                        "it does not name pass through"))


def rename_forward(fn: ast.FunctionDef, source_lines: List[str], file: str) -> Edit:
    line = source_lines[fn.lineno - 1]
    found = re.search(r"\bdef\s+forward\b", line)
    start = (fn.lineno, len(line[:found.end() - len("forward")].encode()))
    return Edit(start, (fn.lineno, start[1] + len("forward")), "_forward",
                Fix(file, fn.lineno, "renamed forward to _forward (GAUBase.forward is final and calls _forward)"))


def canonical_call(call: ast.Call, name: str, file: str) -> Edit:
    return Edit((call.lineno, call.col_offset), (call.end_lineno, call.end_col_offset),
                CANONICAL_CALL.format(name=name),
                Fix(file, call.lineno, f"rewrote the instantiation of child {name} in the canonical form"))
