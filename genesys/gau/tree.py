"""The GAU tree: a design as named units, each with code, spec, hyper-parameters and declared children.

Pure data and edits, no I/O and no code execution. A unit can be the child of several parents (units are
unique by name), so the "tree" is a rooted DAG; cycles are refused. A child that is declared by its parent but
has no code yet is a *placeholder*: it composes as an identity unit so a partial design still runs.
"""
from __future__ import annotations

import contextlib
import copy
import dataclasses
import io
import tokenize
from typing import Any, Dict, List, Optional

from genesys.gau.base import UnitDecl, UnitSpec


class TreeError(ValueError):
    """An edit that would leave the tree inconsistent (unknown unit, cycle, name clash, deleting the root)."""


@dataclasses.dataclass
class GAUNode:
    """One implemented unit."""

    name: str
    code: str
    spec: UnitSpec
    args: Dict[str, Any] = dataclasses.field(default_factory=dict)
    children: List[str] = dataclasses.field(default_factory=list)
    decls: List[UnitDecl] = dataclasses.field(default_factory=list)
    desc: str = ""
    review: str = ""
    rating: Optional[float] = None
    reuse_from: Optional[str] = None

    def decl_for(self, child: str) -> UnitDecl:
        for decl in self.decls:
            if decl.unitname == child:
                return decl
        return UnitDecl(unitname=child)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "GAUNode":
        data = dict(data)
        data["spec"] = UnitSpec(**data["spec"])
        data["decls"] = [UnitDecl(**d) for d in data.get("decls", [])]
        return cls(**data)


@dataclasses.dataclass
class GAUTree:
    """A design: a root unit name and the implemented units reachable from it."""

    name: str
    root: str
    units: Dict[str, GAUNode] = dataclasses.field(default_factory=dict)
    proposal: str = ""
    review: str = ""
    rating: Optional[float] = None
    args: Dict[str, Any] = dataclasses.field(default_factory=dict)  # design-level overrides of unit defaults
    traces: List[dict] = dataclasses.field(default_factory=list)
    semantics: str = "genesys"  # or "original": written for the original release (forward overrides allowed)

    # ---- queries -------------------------------------------------------------------------------------
    def reachable(self) -> List[str]:
        """Unit names (implemented or declared) reachable from the root, parents before children."""
        order: List[str] = []
        seen = set()
        stack = [self.root]
        while stack:
            name = stack.pop()
            if name in seen:
                continue
            seen.add(name)
            order.append(name)
            node = self.units.get(name)
            if node is not None:
                stack.extend(reversed(node.children))
        return order

    def implemented(self) -> List[str]:
        return [n for n in self.reachable() if n in self.units]

    def unimplemented(self) -> List[str]:
        return [n for n in self.reachable() if n not in self.units]

    @property
    def declares(self) -> Dict[str, UnitDecl]:
        """Declared but not implemented children, with the declaration of their first parent."""
        out: Dict[str, UnitDecl] = {}
        for name in self.implemented():
            node = self.units[name]
            for child in node.children:
                if child not in self.units and child not in out:
                    out[child] = node.decl_for(child)
        if self.root not in self.units:
            out.setdefault(self.root, UnitDecl(unitname=self.root))
        return out

    def parents(self, name: str) -> List[str]:
        return [p for p, node in self.units.items() if name in node.children]

    def descendants(self, name: str) -> List[str]:
        sub = GAUTree(name=self.name, root=name, units=self.units)
        return sub.reachable()[1:]

    def kwarg_all(self) -> Dict[str, Any]:
        """Every implemented unit's default hyper-parameters merged, then the design's overrides.

        Two units giving one name different defaults is an error (the original silently kept one); a design
        override settles it explicitly.
        """
        merged: Dict[str, Any] = {}
        owner: Dict[str, str] = {}
        clashes = []
        for name in self.implemented():
            for key, value in self.units[name].args.items():
                if key in merged and merged[key] != value and key not in self.args:
                    clashes.append(f"'{key}': {owner[key]}={merged[key]!r} vs {name}={value!r}")
                merged.setdefault(key, value)
                owner.setdefault(key, name)
        if clashes:
            raise TreeError("hyper-parameter collision between units: " + "; ".join(clashes)
                            + " (rename one, or set the value in the design's args)")
        merged.update(self.args)
        return merged

    # ---- edits ---------------------------------------------------------------------------------------
    def add_unit(self, node: GAUNode, parent: Optional[str] = None) -> None:
        """Implement a declared unit (or a new root when the tree is empty), or a new child of `parent`."""
        if node.name in self.units:
            raise TreeError(f"unit {node.name!r} already exists; use replace_unit")
        if parent is not None and parent not in self.units:
            raise TreeError(f"parent {parent!r} is not an implemented unit")
        if parent is None and node.name not in self.reachable():
            raise TreeError(f"unit {node.name!r} is neither declared in the tree nor given a parent")
        with self._undo_on_cycle():
            if parent is not None and node.name not in self.units[parent].children:
                self.units[parent].children.append(node.name)
            self.units[node.name] = node

    def replace_unit(self, name: str, node: GAUNode) -> None:
        """Swap a unit's implementation (possibly under a new name); descendants no longer used are dropped."""
        if name not in self.units:
            raise TreeError(f"unit {name!r} is not implemented")
        if node.name != name and node.name in self.units:
            raise TreeError(f"unit {node.name!r} already exists")
        with self._undo_on_cycle():
            if node.name != name:
                self._rename_references(name, node.name)
                if self.root == name:
                    self.root = node.name
            del self.units[name]
            self.units[node.name] = node
        self.prune()

    def delete_unit(self, name: str) -> List[str]:
        """Remove a unit's code; it becomes a placeholder again and its orphaned descendants go. Returns removed."""
        if name not in self.units:
            raise TreeError(f"unit {name!r} is not implemented")
        if name == self.root:
            raise TreeError("cannot delete the root unit; replace it instead")
        del self.units[name]
        return [name] + self.prune()

    def rename_unit(self, old: str, new: str) -> None:
        """Rename a unit everywhere: its key, spec, class name and every parent's reference in code."""
        if old not in self.units:
            raise TreeError(f"unit {old!r} is not implemented")
        if new in self.units or new in self.reachable():
            raise TreeError(f"name {new!r} is already used in the tree")
        if not new.isidentifier():
            raise TreeError(f"{new!r} is not a valid Python identifier")
        node = self.units.pop(old)
        node.name = new
        node.spec = dataclasses.replace(node.spec, unitname=new)
        node.code = rename_identifier(node.code, old, new)
        self.units[new] = node
        self._rename_references(old, new)
        if self.root == old:
            self.root = new

    def prune(self) -> List[str]:
        """Drop implemented units no longer reachable from the root; returns their names."""
        keep = set(self.reachable())
        gone = [n for n in self.units if n not in keep]
        for n in gone:
            del self.units[n]
        return gone

    def _rename_references(self, old: str, new: str) -> None:
        for node in self.units.values():
            if old in node.children:
                node.children = [new if c == old else c for c in node.children]
                node.decls = [dataclasses.replace(d, unitname=new) if d.unitname == old else d for d in node.decls]
                node.code = rename_identifier(node.code, old, new)

    @contextlib.contextmanager
    def _undo_on_cycle(self):
        """Run an edit; if it created a cycle, restore the tree as it was and raise TreeError."""
        before = self.copy()
        yield
        try:
            self._refuse_cycles(self.root)
        except TreeError:
            self.units, self.root = before.units, before.root
            raise

    def _refuse_cycles(self, start: str) -> None:
        path: List[str] = []

        def visit(name: str, on_path: set) -> None:
            if name in on_path:
                raise TreeError(f"cycle through {name!r}: {' -> '.join(path + [name])}")
            node = self.units.get(name)
            if node is None:
                return
            on_path.add(name)
            path.append(name)
            for child in node.children:
                visit(child, on_path)
            path.pop()
            on_path.discard(name)

        visit(start, set())

    # ---- views and serialisation -----------------------------------------------------------------------
    def view(self, with_code: bool = False) -> str:
        """An indented text view of the tree for prompts and the CLI."""
        lines = [f"Design {self.name} (root: {self.root})"]

        def walk(name: str, depth: int, seen: set) -> None:
            node = self.units.get(name)
            pad = "    " * depth
            if node is None:
                decl = self.declares.get(name, UnitDecl(unitname=name))
                lines.append(f"{pad}- {name} [unimplemented] {decl.requirements}".rstrip())
                return
            again = " (see above)" if name in seen else ""
            doc = node.spec.document.strip().splitlines()[0] if node.spec.document.strip() else ""
            lines.append(f"{pad}- {name}{again}: {doc}".rstrip(": "))
            if again:
                return
            seen.add(name)
            if node.args:
                lines.append(f"{pad}    args: {node.args}")
            for child in node.children:
                walk(child, depth + 1, seen)

        walk(self.root, 0, set())
        if with_code:
            for name in self.implemented():
                lines += ["", f"# ---- {name} ----", self.units[name].code.rstrip()]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data["units"] = {k: v.to_dict() for k, v in self.units.items()}
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "GAUTree":
        data = copy.deepcopy(data)
        data["units"] = {k: GAUNode.from_dict(v) for k, v in data.get("units", {}).items()}
        return cls(**data)

    def copy(self) -> "GAUTree":
        return copy.deepcopy(self)


def rename_identifier(code: str, old: str, new: str) -> str:
    """Replace every NAME token `old` by `new` in Python source, leaving strings, comments and layout alone."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(code).readline))
    except (tokenize.TokenError, SyntaxError):
        return code
    lines = code.splitlines(keepends=True)
    # edit from the end so earlier columns stay valid
    for tok in reversed(tokens):
        if tok.type == tokenize.NAME and tok.string == old:
            (row, col), (_, end) = tok.start, tok.end
            line = lines[row - 1]
            lines[row - 1] = line[:col] + new + line[end:]
    return "".join(lines)
