"""The proxy rung's record holds only what the rung measures: no LM fields filled with zeros."""
import io

from rich.console import Console

from genesys.gau import GenesysLM, load_design
from genesys.paths import SEEDS_DIR
from genesys.compare import DesignResult, summary_table
from genesys.verify.proxy_rung import proxy_params
from genesys.verify.record import VerificationRecord


def proxy_record(tmp_path) -> VerificationRecord:
    tree = load_design(SEEDS_DIR / "gpt2")
    table = {"mqar": {"metric": "accuracy", "accuracy": 0.9, "random_baseline": 0.0625}}
    return VerificationRecord(
        design="gpt2", scale="proxy", params=proxy_params(tree, d_model=128, n_block=2), tokens=None, time_s=1.0,
        train_loss=None, val_loss=None, val_bits_per_byte=None, unigram_val_loss=None, stop_reason="completed",
        paths={"record": str(tmp_path / "record.json")}, autotune={}, eval={"proxy": table})


def test_proxy_params_are_measured_not_filled(tmp_path):
    record = proxy_record(tmp_path)
    lm = GenesysLM.from_design(load_design(SEEDS_DIR / "gpt2"), d_model=128, n_block=2, vocab_size=50)
    assert record.params["non_embedding"] == lm.num_params(non_embedding=True)
    assert record.params["total"] is None  # vocabularies differ per proxy task: no single total
    back = VerificationRecord.read(record.write(tmp_path / "record.json"))
    assert back.unigram_val_loss is None and back.tokens is None and back.val_loss is None


def test_compare_table_renders_a_proxy_record(tmp_path):
    result = DesignResult("seeds/gpt2")
    result.record = proxy_record(tmp_path).to_dict()
    out = io.StringIO()
    Console(file=out, width=200).print(summary_table([result], "proxy"))
    text = out.getvalue()
    assert "(non-emb.)" in text and "mqar 0.900" in text


def test_the_proxy_rung_runs_without_lightning():
    """A proxy child imports neither Lightning nor lm-eval (~3 s of every proxy verification's start-up)."""
    import subprocess
    import sys
    code = ("import sys, genesys.verify.proxy_rung, genesys.evaluate.runner; "
            "print(sorted(m for m in ('lightning', 'lm_eval', 'torchmetrics') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
