"""The composed module is standalone (torch only) and computes exactly what the tree-built block computes."""
import subprocess
import sys
import textwrap

import pytest
import torch

from genesys.gau import build_block, compose, load_design
from genesys.paths import SEEDS_DIR
from tests.gau.seeds import SEED_NAMES

FRESH = textwrap.dedent('''
    import importlib.abc, sys
    class NoGenesys(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name.split(".")[0] in ("genesys", "model_discovery"):
                raise ImportError("the composed module must not import " + name)
    sys.meta_path.insert(0, NoGenesys())
    import torch
    namespace = {"__name__": "composed"}
    exec(compile(open(sys.argv[1]).read(), sys.argv[1], "exec"), namespace)
    block = namespace["GAB"](embed_dim=int(sys.argv[2]), block_loc=(0, 1), **namespace["gab_config"])
    block.load_state_dict(torch.load(sys.argv[3]))
    block.eval()
    X = torch.load(sys.argv[4])
    with torch.no_grad():
        Y, _ = block(X)
    torch.save(Y, sys.argv[5])
    assert not [m for m in sys.modules if m.startswith("genesys")]
''')


@pytest.mark.parametrize("seed", SEED_NAMES)
def test_composed_module_runs_in_fresh_interpreter_with_same_output(seed, tmp_path):
    tree = load_design(SEEDS_DIR / seed)
    src = compose(tree)
    torch.manual_seed(0)
    d = 64
    block = build_block(tree, embed_dim=d).eval()
    X = torch.randn(2, 37, d)
    with torch.no_grad():
        expected, _ = block(X)
    (tmp_path / "design.py").write_text(src)
    torch.save(block.state_dict(), tmp_path / "state.pt")
    torch.save(X, tmp_path / "x.pt")
    (tmp_path / "run.py").write_text(FRESH)
    proc = subprocess.run(
        [sys.executable, "-I", str(tmp_path / "run.py"), str(tmp_path / "design.py"), str(d),
         str(tmp_path / "state.pt"), str(tmp_path / "x.pt"), str(tmp_path / "y.pt")],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert torch.equal(torch.load(tmp_path / "y.pt"), expected)


def test_composed_source_is_one_module_with_inlined_interface():
    src = compose(load_design(SEEDS_DIR / "gpt2"))
    assert "class GAUBase(nn.Module)" in src and "class GAB(GABBase)" in src
    assert "genesys.gau" not in src.replace("composed by genesys", "")
    assert "@gau_test" not in src  # unit tests run separately, see run_gau_tests
    compile(src, "composed", "exec")
