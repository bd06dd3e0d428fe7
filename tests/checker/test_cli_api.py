"""The CLI contract (DESIGN §5), the Python API on folders and partial trees, auto-fixes, and the seeds."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from genesys.checker import ConfigError, check, load_config
from genesys.gau import load_design, save_design
from genesys.paths import REPO_ROOT, SEEDS_DIR, seed_names

DESIGNS = Path(__file__).parent / "designs"


def _cli(*args, timeout=600):
    return subprocess.run([sys.executable, "-m", "genesys.check", *map(str, args)], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=timeout)


def test_cli_json_is_one_object_with_the_contract_keys_and_exit_1_when_invalid():
    out = _cli(DESIGNS / "escape_torch_os.py", "--json")
    assert out.returncode == 1, out.stderr
    data = json.loads(out.stdout)  # exactly one JSON document on stdout
    assert set(data) >= {"valid", "errors", "warnings", "timings"}
    assert data["valid"] is False
    err = data["errors"][0]
    assert err["category"] == "security" and err["check"]
    assert err["line"] == 16 and err["hint"]  # the torch.os.system line


def test_cli_usage_errors_exit_2():
    assert _cli("no/such/path").returncode == 2
    assert _cli(DESIGNS / "valid_fft_conv.py", "no_such_key=3").returncode == 2
    assert _cli(DESIGNS / "valid_fft_conv.py", "causality.lengths=[7]").returncode == 2  # needs >= 2 lengths
    assert _cli().returncode == 2


def test_cli_overrides_hydra_style_and_flags_and_human_report():
    out = _cli(DESIGNS / "fix_missing_var_kwargs.py", "static_only=true", "--d_model", "96",
               "--efficiency.time_warn=2.0")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "VALID" in out.stdout and "fixed" in out.stdout and "pass  static" in out.stdout


def test_config_overrides_nested_and_refuses_unknown_keys():
    cfg = load_config(["efficiency.time_warn=2.5", "lengths=[1,9]"], {"causality": {"lengths": [5, 9]}})
    assert cfg["efficiency"]["time_warn"] == 2.5 and cfg["lengths"] == [1, 9]
    assert cfg["causality"]["lengths"] == [5, 9] and cfg["causality"]["grad_tol"] == 1e-5
    with pytest.raises(ConfigError):
        load_config(["efficiency.nope=1"])


def test_gpt2_seed_is_valid_through_the_cli():
    out = _cli(SEEDS_DIR / "gpt2", "--json")
    data = json.loads(out.stdout)
    assert out.returncode == 0 and data["valid"] is True, out.stdout
    assert data["errors"] == [] and data["warnings"] == []
    assert {"causality", "gradient", "efficiency", "training", "unit_tests"} <= set(data["timings"])
    assert data["metrics"]["time_ratio"] > 0 and data["metrics"]["memory_ratio"] == pytest.approx(1.0)


@pytest.mark.slow
@pytest.mark.parametrize("seed", seed_names())
def test_every_seed_is_valid(seed):
    report = check(SEEDS_DIR / seed)
    assert report.valid, report.to_text()
    assert not report.fixes, report.to_text()  # the seeds are written in the canonical form: nothing to fix


def test_partial_tree_with_placeholders_is_checked():
    tree = load_design(SEEDS_DIR / "gpt2")
    tree.delete_unit("RMSNorm")  # still declared by GPT2Block: composes as an identity placeholder
    assert "RMSNorm" in tree.unimplemented()
    report = check(tree, skip=["efficiency", "training"])
    assert report.valid, report.to_text()


def test_folder_with_non_canonical_child_call_is_fixed_and_reported(tmp_path):
    tree = load_design(SEEDS_DIR / "gpt2")
    node = tree.units["GPT2Block"]
    node.code = node.code.replace(
        "self.mlp = SwiGLU(embed_dim=self.embed_dim, block_loc=self.block_loc, kwarg_all=self.kwarg_all,\n"
        "                          **self.factory_kwargs, **self.kwarg_all)",
        "self.mlp = SwiGLU(self.embed_dim, self.block_loc, self.kwarg_all)")
    assert "SwiGLU(self.embed_dim" in node.code
    folder = save_design(tree, tmp_path / "design")
    report = check(folder, static_only=True)
    assert report.valid, report.to_text()
    assert any("canonical" in f.message and f.file.endswith("GPT2Block.py") for f in report.fixes)
    fixed = next(src for name, src in report.fixed_sources.items() if name.endswith("GPT2Block.py"))
    assert "SwiGLU(embed_dim=self.embed_dim, block_loc=self.block_loc" in fixed
    # the original file is untouched: fixes apply to a copy
    assert "SwiGLU(self.embed_dim" in (folder / "units" / "GPT2Block.py").read_text()


def test_static_failure_never_runs_code(tmp_path):
    report = check(DESIGNS / "escape_open_write.py")
    assert [c.check for c in report.checks] == ["static"]  # no runtime phase was even attempted
    assert report.categories() == ["security"]


@pytest.mark.parametrize("seed", seed_names())
def test_every_seed_passes_the_static_level_without_fixes(seed):
    report = check(SEEDS_DIR / seed, static_only=True)
    assert report.valid and not report.fixes and not report.warnings, report.to_text()
