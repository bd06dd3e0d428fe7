"""Design names can come from LLM output: stored under a safe name, never a path that leaves the run folder."""
from pathlib import Path

import pytest

from genesys.evolution.designers import DesignOutcome
from genesys.evolution.store import Store
from genesys.evolution.workers import design_folder, safe_design_name, store_outcome
from genesys.gau import load_design
from genesys.paths import SEEDS_DIR


@pytest.mark.parametrize("name", ["../../etc/passwd", "/abs/path", "..", ".hidden", "a/b", "x\\..\\y", "", "é ✓"])
def test_unsafe_names_become_one_path_component(name):
    safe = safe_design_name(name)
    assert safe and "/" not in safe and "\\" not in safe and not safe.startswith(".")
    assert Path(safe).name == safe


def test_a_hostile_name_is_stored_inside_the_run_folder(tmp_path):
    from types import SimpleNamespace
    settings = SimpleNamespace(run_dir=tmp_path / "run")
    with pytest.raises(ValueError):
        design_folder(settings, "../outside")
    store = Store.open(tmp_path / "run")
    seed = load_design(SEEDS_DIR / "gpt2")
    store.add_design("gpt2", seed.to_dict(), "", "h0", [], "seed", is_seed=True)
    tree = load_design(SEEDS_DIR / "gpt2")
    tree.units["SwiGLU"].args = {"mlp_ratio": 3.0, "mlp_multiple_of": 128}      # another design than the seed
    outcome = DesignOutcome(tree=tree, name="../../../tmp/evil'); DROP TABLE designs;--", struct_hash="h1",
                            parents=["gpt2"], proposal="'); DROP TABLE designs;--")
    name = store_outcome(store, settings, outcome, ticket=0, session_id=None)
    assert name and "/" not in name
    assert store.design(name).proposal == "'); DROP TABLE designs;--"     # parameterised: stored verbatim
    assert (tmp_path / "run" / "designs" / name / "metadata.yaml").exists()
    assert not (tmp_path / "tmp").exists() and not Path("/tmp/evil").exists()
    store.close()
