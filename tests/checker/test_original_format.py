"""The checker on designs in the original release's format, and the static rules that let them in: allowed
single members of refused modules, optional imports, local names that shadow refused builtins, unit tests that
are optional unless required."""
import ast
from pathlib import Path

import pytest

from genesys.checker import check
from genesys.checker.static import check_unit_source

ORIGINAL_STYLE = Path(__file__).parents[1] / "gau" / "designs" / "original_style"
FAST = {"skip": ["causality", "gradient", "determinism", "efficiency", "training"]}

UNIT = '''import torch
from torch import nn
from genesys.gau import GAUBase
{imports}


class Unit(GAUBase):
    def __init__(self, embed_dim, block_loc, kwarg_all, device=None, dtype=None, **kwargs):
        self.factory_kwargs = {{"device": device, "dtype": dtype}}
        super().__init__(embed_dim, block_loc, kwarg_all)
        self.proj = nn.Linear(embed_dim, embed_dim, **self.factory_kwargs)

    def _forward(self, X, **Z):
        return self.proj(X)
{extra}
'''


def static(imports="", extra=""):
    return check_unit_source(UNIT.format(imports=imports, extra=extra), "unit.py")


def messages(result):
    return " | ".join(f.message for f in result.errors)


def test_original_style_design_is_valid_with_warnings():
    report = check(ORIGINAL_STYLE)
    assert report.valid, report.to_text()
    warned = " | ".join(f.message for f in report.warnings)
    assert "GateLerp overrides forward()" in warned
    assert "@gau_test ShiftMix.test_shiftmix_on_heads failed" in warned
    fixes = " | ".join(f.message for f in report.fixes)
    assert "optional import `from shift_kernels_cuda import fused_shift`" in fixes
    assert "self.__class__.__name__ as type(self).__name__" in fixes


def test_required_unit_tests_make_a_failing_test_an_error():
    report = check(ORIGINAL_STYLE, unit_tests_required=True, **FAST)
    assert not report.valid
    assert any(f.check == "unit_tests" and f.category == "forward" for f in report.errors), report.to_text()


@pytest.mark.parametrize("imports", [
    "from torch.utils._pytree import tree_map",
    "from transformers.utils import logging",
    "from transformers.activations import ACT2FN",
])
def test_allowed_members_of_refused_modules(imports):
    result = static(imports)
    assert not result.errors, messages(result)


@pytest.mark.parametrize("imports", [
    "from transformers.activations import ACT2FN, get_activation",   # a member not on the list
    "from transformers.utils import cached_file",
    "import transformers",
    "from torch.utils._pytree import tree_flatten",
    "from transformers.utils import logging\nLOG = logging.logging.FileHandler('x')",  # the stdlib logging inside
])
def test_other_members_stay_refused(imports):
    result = static(imports)
    assert any(f.category == "security" for f in result.errors), imports


def test_optional_import_is_replaced_by_its_fallback():
    result = static("try:\n    import os\nexcept ImportError:\n    os = None")
    assert not result.errors, messages(result)
    imported = [a.name for n in ast.walk(ast.parse(result.source)) if isinstance(n, ast.Import) for a in n.names]
    assert "raise ImportError" in result.source and "os" not in imported
    allowed = static("try:\n    import einops\nexcept ImportError:\n    einops = None")
    assert "raise ImportError" not in allowed.source  # allowed imports stay as written


def test_a_required_import_is_still_refused():
    result = static("try:\n    import os\nfinally:\n    pass")
    assert any(f.category == "security" for f in result.errors)


@pytest.mark.parametrize("extra", [
    "\ndef shadow(input, eval=None):\n    return input",
    "\ndef local():\n    input = 3\n    return input + 1",
    "\ndef outer(compile):\n    def inner():\n        return compile\n    return inner",
])
def test_local_names_that_shadow_builtins_are_allowed(extra):
    result = static(extra=extra)
    assert not result.errors, messages(result)


@pytest.mark.parametrize("extra", [
    "\ndef comprehension():\n    [0 for eval in []]\n    return eval('1')",
    "\ndef declared_global():\n    global eval\n    x = eval('1')\n    eval = None\n    return x",
    "\ninput = 3\nX = eval('1')",
    "\ndef in_lambda(x):\n    return (lambda: exec('1'))()",
])
def test_builtins_reached_around_a_binding_are_refused(extra):
    result = static(extra=extra)
    assert any(f.category == "security" for f in result.errors), extra


def test_batch_leak_from_sample_zero_is_named_as_such(phase):
    """Changing sample 0 moves the others (the original ttt seed's `self.conv(...)[0]` bug): a batch finding."""
    from genesys.checker.runtime.causality import check_causality
    results, _ = phase(check_causality, "leak_batch_first_sample")
    errors = [f for r in results for f in r.errors]
    assert any(f.check == "causality.batch" and "changing sample 0" in f.message for f in errors), errors
