"""Fixtures for the verification tests: a tiny corpus made from a few stdlib files, and its data config."""
from __future__ import annotations

from pathlib import Path

import pytest
from verify_helpers import CORPUS_FILES, STDLIB, compose_cfg, data_overrides


@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory) -> Path:
    """24 real Python files (about 400 KB): a small corpus with real structure, built from the stdlib."""
    folder = tmp_path_factory.mktemp("corpus")
    for rel in CORPUS_FILES:
        (folder / rel.replace("/", "_")).write_text((STDLIB / rel).read_text())
    return folder


@pytest.fixture
def data_cfg(corpus_dir):
    return compose_cfg(data_overrides(corpus_dir)).data
