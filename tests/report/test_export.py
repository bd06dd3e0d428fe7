"""A design exported from a verification checkpoint loads with transformers (trust_remote_code) and as plain
PyTorch, gives the trained model's logits, and generates."""
from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest
import torch

from genesys.evolution.store import Store
from genesys.gau import GenesysLM, load_design
from genesys.paths import REPO_ROOT, SEEDS_DIR
from genesys.report.export import ExportError, lm_state_dict
from genesys.report.locate import from_run
from genesys.verify.job import VerificationJob, run_verification
from tests.evolution.evolution_helpers import make_corpus
from tests.verify.verify_helpers import TINY_SCALE, data_overrides

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A few steps of a real verification of the mamba2 seed (Z flows between its two mixers) at a tiny scale."""
    tmp = tmp_path_factory.mktemp("export")
    job = VerificationJob(design=str(SEEDS_DIR / "mamba2"), rung="cpu_xs", run_dir=tmp / "verify", eval="none",
                          overrides=tuple(TINY_SCALE + data_overrides(make_corpus(tmp / "corpus")) +
                                          ["train.max_steps=4", "train.val_windows=4", "logger=csv",
                                           "train.progress_bar=false"]))
    result = run_verification(job, timeout_s=600, threads=2)
    assert result.ok, result.error
    return tmp, result.record.to_dict()


def _export(args, out):
    return subprocess.run([sys.executable, "-m", "genesys.export", *args, f"out={out}"], capture_output=True,
                          text=True, timeout=300, cwd=REPO_ROOT)


def _reference(record):
    state = lm_state_dict(record["paths"]["checkpoint"])
    vocab, d_model = state["embedding.weight"].shape
    lm = GenesysLM.from_design(load_design(SEEDS_DIR / "mamba2"), d_model=d_model,
                               n_block=record["autotune"]["n_block"], vocab_size=vocab)
    lm.load_state_dict(state)
    return lm.eval(), vocab


def test_export_loads_with_transformers_and_matches_logits(trained, tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer
    _, record = trained
    out = tmp_path / "hf"
    proc = _export([f"design={SEEDS_DIR / 'mamba2'}", f"checkpoint={record['paths']['checkpoint']}"], out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    reference, vocab = _reference(record)
    ids = torch.randint(0, vocab, (2, 37), generator=torch.Generator().manual_seed(0))
    model = AutoModelForCausalLM.from_pretrained(str(out), trust_remote_code=True).eval()
    with torch.no_grad():
        expected = reference(ids)
        assert torch.allclose(model(ids).logits, expected, atol=1e-5)
        generated = model.generate(ids[:1, :8], max_new_tokens=5, do_sample=False)
    assert generated.shape == (1, 13) and torch.equal(generated[:, :8], ids[:1, :8])
    assert int(generated[0, 8]) == int(expected[0, 7].argmax())          # greedy: the model's own next token
    tok = AutoTokenizer.from_pretrained(str(out))
    assert tok.decode(tok.encode("def f(x):\n    return x")).startswith("def f")

    spec = importlib.util.spec_from_file_location("exported_model", out / "model.py")
    sys.path.insert(0, str(out))                   # model.py imports gab.py beside it
    try:
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        plain = module.GenesysModel.from_folder(str(out))
    finally:
        sys.path.remove(str(out))
    with torch.no_grad():
        assert torch.allclose(plain(ids), expected, atol=1e-5)


def test_export_from_a_run_picks_the_design_and_its_checkpoint(trained, tmp_path):
    tmp, record = trained
    tree = load_design(SEEDS_DIR / "mamba2")
    store = Store.open(tmp_path / "run")
    store.add_design("mamba2", tree.to_dict(), "", "h-mamba2", [], "seed", is_seed=True)
    claim = store.claim("mamba2", "cpu_xs", "w", lease_s=60)
    store.complete(claim, record, "completed")
    store.close()
    src = from_run("mamba2", str(tmp_path / "run"))
    assert (src.d_model, src.n_block) == (record["autotune"]["d_model"], record["autotune"]["n_block"])
    assert src.tokenizer_dir is not None and (src.tokenizer_dir / "tokenizer.json").exists()
    with pytest.raises(ExportError, match="no design named"):
        from_run("nope", str(tmp_path / "run"))
    proc = _export(["design=nope", f"run={tmp_path / 'run'}"], tmp_path / "x")
    assert proc.returncode == 1 and "no design named" in proc.stderr
    assert _export([], tmp_path / "y").returncode == 2
