"""Design folders load statically and round-trip; the original release's layout and import line are accepted."""
from pathlib import Path

import pytest
import torch

from genesys.gau import DesignLoadError, build_block, load_design, save_design
from genesys.paths import SEEDS_DIR
from tests.gau.seeds import SEED_NAMES

ORIGINAL_UNIT = '''import torch
from model_discovery.model.utils.modules import GAUBase, gau_test, UnitDecl


class Doubler(GAUBase):
    """Multiplies by a learned scalar, initialised at 2."""

    def __init__(self, embed_dim, block_loc, kwarg_all, device=None, dtype=None, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        self.scale = torch.nn.Parameter(torch.full((1,), 2.0, **self.factory_kwargs))

    def _forward(self, X, **Z):
        return X * self.scale


@gau_test
def test_doubler(device=None, dtype=None):
    X = torch.ones(1, 2, 4)
    assert torch.equal(Doubler(4, (0, 1), {})(X)[0], 2 * X)


CHILDREN_DECLARATIONS = []
SPEC = {"unitname": "Doubler", "inputs": ["X"], "outputs": ["Y"], "document": "doubles"}
ARGS = {}
CHILDREN = []
DESC = "x2"
'''


@pytest.mark.parametrize("seed", SEED_NAMES)
def test_seed_folder_round_trips(seed, tmp_path):
    tree = load_design(SEEDS_DIR / seed)
    assert tree.unimplemented() == [], "seeds are complete designs"
    again = load_design(save_design(tree, tmp_path / seed))
    assert again == tree


def test_original_release_layout_and_import_line(tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "Doubler.py").write_text(ORIGINAL_UNIT)
    (tmp_path / "metadata.json").write_text('{"name": "orig", "root": "Doubler", "proposal": "p"}')
    tree = load_design(tmp_path)
    assert "from genesys.gau import GAUBase" in tree.units["Doubler"].code
    Y, _ = build_block(tree, embed_dim=4)(torch.ones(1, 3, 4))
    assert torch.equal(Y, 2 * torch.ones(1, 3, 4))


def test_single_unit_file_is_a_design(tmp_path):
    path = tmp_path / "doubler.py"
    path.write_text(ORIGINAL_UNIT)
    tree = load_design(path)
    assert tree.root == "Doubler" and tree.units["Doubler"].spec.document == "doubles"


@pytest.mark.parametrize(
    "source, message",
    [
        ("def broken(:\n    pass\n", "syntax error"),
        ("x = 1\n", "exactly one GAUBase subclass"),
        (ORIGINAL_UNIT.replace("class Doubler", "class Other(GAUBase):\n    pass\n\n\nclass Doubler"), "found 2"),
        (ORIGINAL_UNIT.replace('ARGS = {}', 'ARGS = {"n": len("x")}'), "ARGS must be a literal"),
        (ORIGINAL_UNIT.replace('"unitname": "Doubler"', '"unitname": "Tripler"'), "differs from class"),
    ],
)
def test_bad_unit_files_give_clear_errors(tmp_path, source, message):
    path = tmp_path / "unit.py"
    path.write_text(source)
    with pytest.raises(DesignLoadError, match=message):
        load_design(path)


def test_folder_errors(tmp_path):
    with pytest.raises(DesignLoadError, match="no metadata"):
        load_design(tmp_path)
    (tmp_path / "metadata.yaml").write_text("name: x\nroot: Missing\n")
    (tmp_path / "units").mkdir()
    with pytest.raises(DesignLoadError, match="root unit 'Missing'"):
        load_design(tmp_path)
    (tmp_path / "metadata.yaml").write_text(": : not yaml : [")
    with pytest.raises(DesignLoadError, match="unreadable metadata"):
        load_design(tmp_path)


def test_one_design_path_rule(tmp_path, monkeypatch):
    """resolve_design: the working directory first, then the repository, then a seed's name."""
    from genesys.paths import REPO_ROOT, SEEDS_DIR, resolve_design
    monkeypatch.chdir(tmp_path)
    assert resolve_design("gpt2") == SEEDS_DIR / "gpt2"
    assert resolve_design("seeds/mamba2") == REPO_ROOT / "seeds" / "mamba2"
    (tmp_path / "gpt2").mkdir()
    assert resolve_design("gpt2") == Path("gpt2")
    with pytest.raises(FileNotFoundError, match="design not found: nothere"):
        resolve_design("nothere")
