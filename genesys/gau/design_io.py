"""Design folders on disk <-> GAUTree, read statically (the loader never imports or runs unit code).

Layout (ours, and the original release's with `src/` instead of `units/`):
    <design>/metadata.yaml     name, root, proposal, optional args / review / rating (metadata.json also read)
    <design>/units/<Unit>.py   one GAUBase subclass, its @gau_test functions, and the literals
                               CHILDREN_DECLARATIONS, SPEC, ARGS, CHILDREN, DESC
A single `.py` file holding one GAUBase subclass is a one-unit design.
"""
from __future__ import annotations

import ast
import json
import pprint
import re
from pathlib import Path
from typing import List, Optional, Tuple, Union

import yaml

from genesys.gau.base import UnitDecl, UnitSpec
from genesys.gau.tree import GAUNode, GAUTree

METADATA_NAMES = ("CHILDREN_DECLARATIONS", "SPEC", "ARGS", "CHILDREN", "DESC")
_ORIGINAL_IMPORT = re.compile(r"^(\s*)from\s+model_discovery\.model\.utils\.modules\s+import\s+", re.M)


class DesignLoadError(ValueError):
    """A design folder or unit file that cannot be read as a design (with the file and line when known)."""


ORIGINAL = "original"  # GAUTree.semantics of designs written for the original release


def uses_original_import(code: str) -> bool:
    """Whether unit code was written against the original release (its import line)."""
    return bool(_ORIGINAL_IMPORT.search(code))


def rewrite_original_imports(code: str) -> str:
    """Point the original Genesys release's import line at our package."""
    return _ORIGINAL_IMPORT.sub(r"\1from genesys.gau import ", code)


def _literal(node: ast.AST, what: str, path: str):
    try:
        return ast.literal_eval(node)
    except ValueError as exc:
        raise DesignLoadError(f"{path}:{node.lineno}: {what} must be a literal ({exc})") from None


def _unit_decl(call: ast.AST, path: str) -> UnitDecl:
    if not (isinstance(call, ast.Call) and getattr(call.func, "id", getattr(call.func, "attr", "")) == "UnitDecl"):
        raise DesignLoadError(f"{path}:{call.lineno}: CHILDREN_DECLARATIONS entries must be UnitDecl(...) calls")
    fields = ["unitname", "requirements", "inputs", "outputs"]
    kwargs = {fields[i]: _literal(a, "UnitDecl argument", path) for i, a in enumerate(call.args)}
    kwargs.update({k.arg: _literal(k.value, "UnitDecl argument", path) for k in call.keywords})
    return UnitDecl(**kwargs)


def _is_gau_class(node: ast.AST) -> bool:
    return isinstance(node, ast.ClassDef) and any(
        getattr(b, "id", getattr(b, "attr", None)) == "GAUBase" for b in node.bases
    )


def parse_unit_source(code: str, path: str = "<unit>") -> GAUNode:
    """Read one unit file's source into a GAUNode: class name, metadata literals, and code without them."""
    code = rewrite_original_imports(code)
    try:
        module = ast.parse(code)
    except SyntaxError as exc:
        raise DesignLoadError(f"{path}:{exc.lineno}: syntax error: {exc.msg}") from None
    classes = [n for n in module.body if _is_gau_class(n)]
    if len(classes) != 1:
        names = [c.name for c in classes]
        raise DesignLoadError(f"{path}: expected exactly one GAUBase subclass, found {len(classes)} {names}")
    cls = classes[0]
    meta, drop = {}, []
    for stmt in module.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and getattr(stmt.targets[0], "id", None) in METADATA_NAMES:
            key = stmt.targets[0].id
            if key == "CHILDREN_DECLARATIONS":
                if not isinstance(stmt.value, (ast.List, ast.Tuple)):
                    raise DesignLoadError(f"{path}:{stmt.lineno}: CHILDREN_DECLARATIONS must be a list")
                meta[key] = [_unit_decl(e, path) for e in stmt.value.elts]
            else:
                meta[key] = _literal(stmt.value, key, path)
            drop.append((stmt.lineno, stmt.end_lineno))
    lines = code.splitlines()
    for start, end in sorted(drop, reverse=True):
        del lines[start - 1:end]
    body = "\n".join(lines).rstrip() + "\n"
    decls = meta.get("CHILDREN_DECLARATIONS", [])
    spec_data = dict(meta.get("SPEC") or {})
    spec_data.setdefault("unitname", cls.name)
    spec_data.setdefault("document", ast.get_docstring(cls) or "")
    if spec_data["unitname"] != cls.name:
        raise DesignLoadError(f"{path}: SPEC unitname {spec_data['unitname']!r} differs from class {cls.name!r}")
    children = list(meta.get("CHILDREN", [d.unitname for d in decls]))
    return GAUNode(
        name=cls.name,
        code=re.sub(r"\n{3,}$", "\n", body),
        spec=UnitSpec(**spec_data),
        args=dict(meta.get("ARGS") or {}),
        children=children,
        decls=decls,
        desc=meta.get("DESC", ""),
    )


def render_unit_source(node: GAUNode) -> str:
    """The inverse of parse_unit_source: code followed by the metadata literals."""
    decls = ",\n".join(
        f"    UnitDecl(unitname={d.unitname!r}, requirements={d.requirements!r}, inputs={d.inputs!r}, outputs={d.outputs!r})"
        for d in node.decls
    )
    spec = {"unitname": node.spec.unitname, "inputs": node.spec.inputs, "outputs": node.spec.outputs,
            "document": node.spec.document}
    parts = [
        node.code.rstrip(),
        "",
        "",
        f"CHILDREN_DECLARATIONS = [\n{decls},\n]" if decls else "CHILDREN_DECLARATIONS = []",
        "SPEC = " + pprint.pformat(spec, width=110, sort_dicts=False),
        "ARGS = " + pprint.pformat(node.args, width=110, sort_dicts=False),
        f"CHILDREN = {node.children!r}",
        f"DESC = {node.desc!r}",
        "",
    ]
    return "\n".join(parts)


def read_metadata(folder: Path) -> dict:
    for name, reader in (("metadata.yaml", yaml.safe_load), ("metadata.yml", yaml.safe_load), ("metadata.json", json.loads)):
        path = folder / name
        if path.exists():
            try:
                data = reader(path.read_text()) or {}
            except (yaml.YAMLError, json.JSONDecodeError) as exc:
                raise DesignLoadError(f"{path}: unreadable metadata: {exc}") from None
            if not isinstance(data, dict):
                raise DesignLoadError(f"{path}: metadata must be a mapping")
            return data
    raise DesignLoadError(f"{folder}: no metadata.yaml")


def unit_files(folder: Path) -> List[Path]:
    """The unit files of a design folder: units/*.py (ours) or src/*.py (the original release's layout)."""
    for sub in ("units", "src"):
        if (folder / sub).is_dir():
            return sorted(p for p in (folder / sub).glob("*.py") if not p.name.startswith("_"))
    raise DesignLoadError(f"{folder}: no units/ (or src/) folder")


def design_semantics(path: Path, sources: List[str], meta: Optional[dict] = None) -> str:
    """"original" for designs in the original release's layout (src/), with its import line, or marked so in
    their metadata; else "genesys". Original designs keep the original GAUBase semantics (forward overrides)."""
    if (meta or {}).get("semantics") == ORIGINAL:
        return ORIGINAL
    if path.is_dir() and not (path / "units").is_dir() and (path / "src").is_dir():
        return ORIGINAL
    return ORIGINAL if any(uses_original_import(s) for s in sources) else "genesys"


def load_design(path: Union[str, Path]) -> GAUTree:
    """Load a design folder, or a single-unit `.py` file, into a GAUTree (statically)."""
    path = Path(path)
    if path.is_file() and path.suffix == ".py":
        code = path.read_text()
        node = parse_unit_source(code, str(path))
        return GAUTree(name=path.stem, root=node.name, units={node.name: node},
                       semantics=design_semantics(path, [code]))
    if not path.is_dir():
        raise DesignLoadError(f"{path}: not a design folder or a unit .py file")
    meta = read_metadata(path)
    units, sources = {}, []
    for file in unit_files(path):
        sources.append(file.read_text())
        node = parse_unit_source(sources[-1], str(file))
        if node.name in units:
            raise DesignLoadError(f"{file}: unit {node.name!r} is defined twice in the design")
        units[node.name] = node
    root = meta.get("root") or meta.get("root_unit")
    if root not in units:
        raise DesignLoadError(f"{path}: root unit {root!r} has no file in the design (units: {sorted(units)})")
    tree = GAUTree(
        name=str(meta.get("name", path.name)),
        root=root,
        units=units,
        proposal=meta.get("proposal", ""),
        review=meta.get("review", ""),
        rating=meta.get("rating"),
        args=dict(meta.get("args") or {}),
        semantics=design_semantics(path, sources, meta),
    )
    tree.prune()
    return tree


def save_design(tree: GAUTree, folder: Union[str, Path]) -> Path:
    """Write a design folder (our `units/` layout). Existing unit files of the folder are replaced."""
    folder = Path(folder)
    bad = [n for n in tree.implemented() if not n.isidentifier()]   # a unit name becomes a file name: never a path
    if bad:
        raise ValueError(f"unit names {bad} are not Python identifiers")
    units_dir = folder / "units"
    units_dir.mkdir(parents=True, exist_ok=True)
    for stale in units_dir.glob("*.py"):
        stale.unlink()
    meta = {"name": tree.name, "root": tree.root, "proposal": tree.proposal}
    if tree.args:
        meta["args"] = tree.args
    if tree.review:
        meta["review"] = tree.review
    if tree.rating is not None:
        meta["rating"] = tree.rating
    if tree.semantics == ORIGINAL:
        meta["semantics"] = ORIGINAL
    (folder / "metadata.yaml").write_text(yaml.safe_dump(meta, sort_keys=False, allow_unicode=True))
    for name in tree.implemented():
        (units_dir / f"{name}.py").write_text(render_unit_source(tree.units[name]))
    return folder


def split_tests(code: str) -> Tuple[str, List[Tuple[str, str]]]:
    """Split unit code into (code without @gau_test functions, [(test name, test source)])."""
    module = ast.parse(code)
    lines = code.splitlines()
    tests, spans = [], []
    for stmt in module.body:
        if isinstance(stmt, ast.FunctionDef) and any(
            getattr(d, "id", getattr(d, "attr", None)) == "gau_test" for d in stmt.decorator_list
        ):
            start = min([stmt.lineno] + [d.lineno for d in stmt.decorator_list])
            tests.append((stmt.name, "\n".join(lines[start - 1:stmt.end_lineno])))
            spans.append((start, stmt.end_lineno))
    for start, end in sorted(spans, reverse=True):
        del lines[start - 1:end]
    return "\n".join(lines), tests
