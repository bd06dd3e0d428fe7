"""compose(tree) -> one self-contained Python module defining every unit and the `GAB` block class.

The composed module is what gets executed, stored and exported: it inlines the unit interface (base.py), so it
needs only torch (and einops when a unit uses it). Declared-but-unimplemented units become identity
placeholders, which lets a partial design compile and be checked unit by unit.
"""
from __future__ import annotations

import ast
import pprint
from pathlib import Path
from typing import List, Tuple

from genesys.gau.design_io import ORIGINAL, split_tests
from genesys.gau.tree import GAUTree

_BASE_FILE = Path(__file__).with_name("base.py")
_OWN_MODULES = ("genesys", "model_discovery")

PLACEHOLDER = '''
class {name}(GAUBase):
    """Placeholder for the declared, not yet implemented unit {name}: the identity map."""

    def __init__(self, embed_dim, block_loc, kwarg_all, device=None, dtype=None, **kwargs):
        super().__init__(embed_dim, block_loc, kwarg_all)

    def _forward(self, X, **Z):
        return X
'''

GAB_CLASS = '''
class GAB(GABBase):
    """Design {design}: the block, a wrapper around its root unit {root}."""

    def __init__(self, embed_dim, block_loc, device=None, dtype=None, **kwargs):
        super().__init__(embed_dim, block_loc)
        kwarg_all = {{**gab_config, **kwargs}}
        self.root = {root}(embed_dim=embed_dim, block_loc=block_loc, kwarg_all=kwarg_all,
                           device=device, dtype=dtype, **kwarg_all)

    def _forward(self, X, **Z):
        return self.root(X, **Z)


gab_config = {config}
'''


def _split_imports(code: str) -> Tuple[List[str], str]:
    """Top-level import statements (normalised) and the code without them."""
    module = ast.parse(code)
    lines = code.splitlines()
    imports, spans = [], []
    for stmt in module.body:
        if isinstance(stmt, (ast.Import, ast.ImportFrom)):
            spans.append((stmt.lineno, stmt.end_lineno))
            top = (stmt.module or "") if isinstance(stmt, ast.ImportFrom) else stmt.names[0].name
            if not top.split(".")[0] in _OWN_MODULES:
                imports.append(ast.unparse(stmt))
    for start, end in sorted(spans, reverse=True):
        del lines[start - 1:end]
    return imports, "\n".join(lines).strip("\n")


def _runtime_source() -> Tuple[List[str], str]:
    """The unit interface (base.py) without its docstring and imports."""
    imports, body = _split_imports(_BASE_FILE.read_text())
    module = ast.parse(body)
    first = module.body[0]
    if isinstance(first, ast.Expr) and isinstance(getattr(first, "value", None), ast.Constant):
        body = "\n".join(body.splitlines()[first.end_lineno:]).strip("\n")
    return imports, body


def compose(tree: GAUTree, include_tests: bool = False) -> str:
    """The design as one standalone module source. Raises TreeError on a hyper-parameter collision."""
    config = tree.kwarg_all()
    imports, runtime = _runtime_source()
    future, unit_sources = [], []
    for name in reversed(tree.implemented()):  # children before parents, for reading order
        code = tree.units[name].code
        if not include_tests:
            code, _ = split_tests(code)
        unit_imports, body = _split_imports(code)
        for imp in unit_imports:
            target = future if imp.startswith("from __future__") else imports
            if imp not in target:
                target.append(imp)
        unit_sources.append(f"# ---- unit {name} ----\n{body}")
    for name in tree.unimplemented():
        unit_sources.append(f"# ---- placeholder {name} ----" + PLACEHOLDER.format(name=name).rstrip())
    header = f'"""Design {tree.name}, composed by genesys: a standalone module (torch only) defining its units and GAB."""'
    if tree.semantics == ORIGINAL:
        runtime += "\n\n\nGAUBase.original_semantics = True  # written for the original release: forward overrides allowed"
    parts = [header, "\n".join(future + imports), runtime, *unit_sources,
             GAB_CLASS.format(design=tree.name, root=tree.root, config=pprint.pformat(config, width=100)).strip()]
    return "\n\n\n".join(p for p in parts if p) + "\n"
