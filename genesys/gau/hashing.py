"""structural_hash(tree): one hash per computation, so the store never holds the same design twice.

Two trees hash the same when they compute the same thing as far as can be told statically: the design's name,
unit names, comments, docstrings, @gau_test functions and unit documentation do not count; the code (as an AST
dump), the tree's shape and the hyper-parameter values the composed module sees (plus the GAUBase semantics)
do. Unit names are canonicalised in tree order (U0 for the root, then depth-first), so a renamed copy of a seed
collides with the seed. Pure: the code is parsed, never run.
"""
from __future__ import annotations

import ast
import hashlib
import json
from typing import Dict, List

from genesys.gau.design_io import split_tests
from genesys.gau.tree import GAUTree, TreeError


class _Canonical(ast.NodeTransformer):
    """Rename unit identifiers to their canonical names and drop docstrings."""

    def __init__(self, names: Dict[str, str]):
        self.names = names

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id in self.names:
            node.id = self.names[node.id]
        return node

    def _strip_docstring(self, node):
        body = node.body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                and isinstance(body[0].value.value, str):
            node.body = body[1:] or [ast.Pass()]
        return node

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:
        node.name = self.names.get(node.name, node.name)
        self.generic_visit(node)
        return self._strip_docstring(node)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        self.generic_visit(node)
        return self._strip_docstring(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Module(self, node: ast.Module) -> ast.AST:
        self.generic_visit(node)
        return self._strip_docstring(node)


def canonical_names(tree: GAUTree, root: str = None) -> Dict[str, str]:
    """Unit name -> U<i>, numbered in tree order from `root` (default: the tree's root)."""
    sub = GAUTree(name=tree.name, root=root or tree.root, units=tree.units)
    return {name: f"U{i}" for i, name in enumerate(sub.reachable())}


def code_fingerprint(code: str, names: Dict[str, str]) -> str:
    """The AST dump of a unit's code without tests and docstrings, unit names replaced; the raw text when the
    code does not parse (then only identical text collides)."""
    try:
        code, _ = split_tests(code)
        module = ast.parse(code)
    except SyntaxError:
        return "unparsed:" + code
    return ast.dump(_Canonical(names).visit(module), include_attributes=False)


def _effective_args(tree: GAUTree) -> Dict[str, object]:
    try:
        return tree.kwarg_all()
    except TreeError:  # colliding unit defaults: hash where each value lives
        return {"units": {n: tree.units[n].args for n in tree.implemented()}, "design": tree.args}


def _structure(tree: GAUTree, root: str) -> List[list]:
    names = canonical_names(tree, root)
    rows = []
    for name in GAUTree(name=tree.name, root=root, units=tree.units).reachable():
        node = tree.units.get(name)
        if node is None:
            rows.append([names[name], "placeholder"])
            continue
        rows.append([names[name], code_fingerprint(node.code, names), [names[c] for c in node.children]])
    return rows


def _digest(payload) -> str:
    text = json.dumps(payload, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()


def structural_hash(tree: GAUTree) -> str:
    """sha256 hex of (semantics, effective hyper-parameters, canonical code and shape) of the whole design."""
    return _digest({"semantics": tree.semantics, "args": _effective_args(tree), "units": _structure(tree, tree.root)})


def subtree_hash(tree: GAUTree, name: str, args: Dict[str, object] = None) -> str:
    """The hash of the unit `name` with its descendants: code and shape, plus the given (or the units' own)
    hyper-parameter values. Two units with equal subtree hashes are interchangeable implementations."""
    units = GAUTree(name=tree.name, root=name, units=tree.units).implemented()
    if args is None:
        args = {n: tree.units[n].args for n in units}
        args = {canonical_names(tree, name)[n]: a for n, a in args.items()}
    return _digest({"semantics": tree.semantics, "args": args, "units": _structure(tree, name)})
