"""Run a design's @gau_test functions against its composed module (trusted code, or inside the sandbox)."""
from __future__ import annotations

import traceback
from typing import Dict, Optional

from genesys.gau.build import load_module
from genesys.gau.compose import compose
from genesys.gau.design_io import split_tests
from genesys.gau.tree import GAUTree


def run_gau_tests(tree: GAUTree, device=None, dtype=None) -> Dict[str, Optional[str]]:
    """{"Unit.test_name": None if it passed else the error text} for every implemented unit's tests."""
    module = load_module(compose(tree), tree.name)
    results: Dict[str, Optional[str]] = {}
    for name in tree.implemented():
        _, tests = split_tests(tree.units[name].code)
        for test_name, source in tests:
            namespace = dict(module.__dict__)
            key = f"{name}.{test_name}"
            try:
                exec(compile(source, f"<gau_test {key}>", "exec"), namespace)
                namespace[test_name](device=device, dtype=dtype)
                results[key] = None
            except Exception:  # a failing unit test is a result, not a crash
                results[key] = traceback.format_exc(limit=4)
    return results
