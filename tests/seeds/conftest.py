"""Shared fixtures of the seed tests: each test module names its seed in `SEED` (a folder under seeds/)."""
import pytest

from genesys.gau import compose, load_design, load_module
from genesys.paths import SEEDS_DIR


@pytest.fixture(scope="module")
def tree(request):
    return load_design(SEEDS_DIR / request.module.SEED)


@pytest.fixture(scope="module")
def mod(tree):
    return load_module(compose(tree), tree.name)
