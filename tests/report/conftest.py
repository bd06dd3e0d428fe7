"""One synthetic evolution run folder per test session (built through the Store API in about a second)."""
from __future__ import annotations

import pytest

from tests.report.synthetic import build_run


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory):
    return build_run(tmp_path_factory.mktemp("report") / "run")


@pytest.fixture(scope="session")
def run_data(run_dir):
    from genesys.report.data import load_run
    return load_run(str(run_dir))
