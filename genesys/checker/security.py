"""Security level of the static checker: what design code may import, name and reach through attributes.

An allow-list for imports and a deny-list for names and attributes, applied to every unit file (its @gau_test
functions included). Refused code never runs. This is the first wall; the sandbox (sandbox.py) is the second.
"""
from __future__ import annotations

import ast
import re
from typing import List

from genesys.checker.report import Finding

# Importable modules (a module matches when it is one of these or a submodule of one).
ALLOWED_MODULES = ("torch", "math", "einops", "typing", "dataclasses", "functools", "itertools", "collections",
                   "numbers", "enum", "abc", "warnings", "genesys.gau", "model_discovery.model.utils.modules",
                   "__future__")
# torch submodules that load or save files, fetch from the network, build native extensions or spawn workers.
DENIED_MODULES = ("torch.hub", "torch.utils.cpp_extension", "torch.utils.model_zoo", "torch.serialization",
                  "torch.package", "torch.multiprocessing", "torch.distributed", "torch.utils.data", "torch.onnx",
                  "torch.library", "torch.utils.tensorboard", "torch.utils.benchmark", "torch.utils.bundled_inputs",
                  "torch.testing", "torch.export", "torch.compiler")
# Single members of otherwise refused modules, allowed by name because designs written for the original release
# use them (its ttt and rwkv6 seeds): a pytree helper, a logger factory and the activation table.
ALLOWED_MEMBERS = {"torch.utils._pytree": {"tree_map"}, "transformers.utils": {"logging"},
                   "transformers.activations": {"ACT2FN"}}
# What a unit may import from genesys.gau: the interface, not the loaders (load_module executes strings).
GENESYS_NAMES = {"GAUBase", "GABBase", "gau_test", "UnitDecl", "UnitSpec"}

DENIED_NAMES = {
    "exec": "executes strings as code", "eval": "evaluates strings as code", "compile": "compiles strings to code",
    "open": "opens files", "__import__": "imports arbitrary modules", "globals": "exposes the module namespace",
    "locals": "exposes frames", "vars": "exposes object namespaces", "breakpoint": "starts a debugger",
    "input": "reads stdin", "help": "starts a pager", "exit": "exits the process", "quit": "exits the process",
    "memoryview": "reads raw memory", "__builtins__": "exposes every builtin", "__loader__": "exposes the loader",
    "__spec__": "exposes the import system", "setattr": "sets attributes by computed name",
    "delattr": "deletes attributes by computed name",
}
# Attribute names refused on any object: file/network/hub I/O, process control, native code and modules
# reachable through torch's own namespace (torch.os, torch.sys, ...).
DENIED_ATTRIBUTES = {
    "load", "save", "hub", "load_state_dict_from_url", "download_url_to_file", "from_pretrained", "from_file",
    "load_library", "cpp_extension", "model_zoo", "serialization", "tofile", "dump", "compile", "_dynamo",
    "_inductor", "_C", "_classes", "classes", "library", "package", "onnx", "multiprocessing", "distributed",
    "DataLoader", "system", "popen", "Popen", "spawn", "fork", "execv", "execve", "exec", "eval",
    "os", "sys", "subprocess", "socket", "shutil", "builtins", "importlib", "ctypes", "pickle", "io", "pathlib",
    "inspect", "gc", "signal", "threading", "platform", "tempfile", "glob", "urllib", "http", "requests",
    "marshal", "runpy", "code", "codeop", "pty", "resource", "mmap", "weakref", "types", "traceback",
    "f_globals", "f_locals", "f_back", "f_builtins", "gi_frame", "cr_frame", "tb_frame",
    "get_type_hints", "ForwardRef", "_evaluate", "fx", "logging", "FileHandler", "addHandler", "add_handler",
}
# Dunder attributes that are harmless and common in model code; every other dunder attribute is refused.
ALLOWED_DUNDERS = {"__init__", "__name__", "__qualname__", "__doc__"}
_DUNDER = re.compile(r"^__\w+__$")


def import_allowed(module: str, names=None) -> bool:
    """Whether `import module` (names None) or `from module import names` passes the allow-list."""
    if names is not None and module in ALLOWED_MEMBERS and set(names) <= ALLOWED_MEMBERS[module]:
        return True
    return _allowed_module(module) and not (names and any(
        n == "*" or n in DENIED_NAMES or n in DENIED_ATTRIBUTES for n in names))


def _function_locals(fn) -> set:
    """Names bound inside one function (its parameters and assignments, not nested scopes): a denied builtin's
    name bound there is a local variable (a parameter named `input`), never the builtin."""
    a = fn.args
    names = {x.arg for x in (*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg) if x is not None}
    declared_outside = set()
    stack = list(fn.body) if isinstance(fn.body, list) else [fn.body]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            continue
        if isinstance(node, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            continue  # their own scopes: what they bind is not a local of fn
        if isinstance(node, (ast.Global, ast.Nonlocal)):
            declared_outside.update(node.names)
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        stack.extend(ast.iter_child_nodes(node))
    return names - declared_outside


def _allowed_module(name: str) -> bool:
    if any(name == d or name.startswith(d + ".") for d in DENIED_MODULES):
        return False
    if any(part.startswith("_") for part in name.split(".")) and name != "__future__":
        return False
    return any(name == a or name.startswith(a + ".") for a in ALLOWED_MODULES)


class _Visitor(ast.NodeVisitor):
    def __init__(self, file: str, imported: set):
        self.file = file
        self.imported = imported  # names bound by import statements (modules and their members)
        self.findings: List[Finding] = []
        self.scopes: List[set] = []  # locals of the enclosing functions

    def _refuse(self, node: ast.AST, message: str, hint: str) -> None:
        self.findings.append(Finding("security", "security", message, hint, self.file, getattr(node, "lineno", None)))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if not _allowed_module(alias.name):
                self._refuse(node, f"import of {alias.name!r} is not allowed",
                             "Only torch (no hub/serialization/extension modules), math, einops, typing, dataclasses, "
                             "functools, itertools, collections, numbers, enum, abc, warnings and genesys.gau may be "
                             "imported.")
        self.generic_visit(node)

    def _visit_function(self, node) -> None:
        self.scopes.append(_function_locals(node))
        self.generic_visit(node)
        self.scopes.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _visit_function

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = "." * node.level + (node.module or "")
        if not node.level and {a.name for a in node.names} <= ALLOWED_MEMBERS.get(module, set()):
            return
        if node.level or not _allowed_module(module):
            self._refuse(node, f"import from {module!r} is not allowed",
                         "Import only from torch, math, einops, typing-like standard modules and genesys.gau.")
        for alias in node.names:
            full = f"{module}.{alias.name}"
            if alias.name == "*":
                self._refuse(node, f"'from {module} import *' is not allowed", "Import the names you use explicitly.")
            elif module in ("genesys.gau", "model_discovery.model.utils.modules") and alias.name not in GENESYS_NAMES:
                self._refuse(node, f"genesys.gau.{alias.name} may not be imported by a unit",
                             f"A unit may import only {sorted(GENESYS_NAMES)} from genesys.gau.")
            elif alias.name in DENIED_NAMES or alias.name in DENIED_ATTRIBUTES or (
                    not _allowed_module(full) and _allowed_module(module) and full.startswith("torch.")
                    and any(full == d or full.startswith(d + ".") for d in DENIED_MODULES)):
                self._refuse(node, f"importing {alias.name!r} from {module!r} is not allowed",
                             "File, hub and process functions are refused; a unit computes on tensors only.")
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if any(node.id in scope for scope in self.scopes):
            pass  # a local variable of that name, not the builtin
        elif node.id in DENIED_NAMES:
            self._refuse(node, f"use of {node.id!r} is not allowed ({DENIED_NAMES[node.id]})",
                         f"Remove {node.id!r}; write the computation directly with torch operations.")
        elif node.id == "getattr" and not getattr(node, "_checked_call", False):
            self._refuse(node, "getattr may only be called directly with a constant attribute name",
                         "Write getattr(obj, 'name', default) with a literal name, or use obj.name.")
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        if isinstance(node.func, ast.Name) and node.func.id == "getattr":
            node.func._checked_call = True
            name = node.args[1] if len(node.args) > 1 else None
            if not (isinstance(name, ast.Constant) and isinstance(name.value, str)):
                self._refuse(node, "getattr with a computed attribute name is not allowed",
                             "Use a literal attribute name: getattr(obj, 'name', default).")
            else:
                self._check_attr(node, name.value)
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        self._check_attr(node, node.attr)
        root = node
        while isinstance(root, ast.Attribute):
            root = root.value
        if (isinstance(root, ast.Name) and root.id in self.imported and node.attr.startswith("_")
                and not _DUNDER.match(node.attr)):
            self._refuse(node, f"access to the private attribute {node.attr!r} of an imported module",
                         "Use the public torch API; private internals (torch._C, torch._dynamo, ...) are refused.")
        self.generic_visit(node)

    def _check_attr(self, node: ast.AST, attr: str) -> None:
        if _DUNDER.match(attr) and attr not in ALLOWED_DUNDERS:
            hint = "Use type(obj).__name__ instead of obj.__class__." if attr == "__class__" else \
                "Dunder attribute access is refused; use the public API of the object."
            self._refuse(node, f"access to the attribute {attr!r} is not allowed", hint)
        elif attr in DENIED_ATTRIBUTES:
            self._refuse(node, f"access to the attribute {attr!r} is not allowed (file, network, process or "
                               "native-code access)",
                         "A unit computes on tensors only: no loading/saving, hub, compilation, processes or modules "
                         "reached through torch's namespace.")


def security_findings(tree: ast.Module, file: str) -> List[Finding]:
    """Every refused import, name and attribute in the parsed unit file."""
    imported = {(a.asname or a.name).split(".")[0] for n in ast.walk(tree)
                if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names}
    visitor = _Visitor(file, imported)
    visitor.visit(tree)
    return visitor.findings
