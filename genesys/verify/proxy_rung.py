"""eval=proxy: the synthetic proxy rung alone (no LM pre-training), recorded like any verification (scale "proxy").

Only what the rung measures goes into the record: the suite's table, its time, and the design's non-embedding
parameters at the proxy size. LM fields (tokens, losses, the unigram baseline) are absent (None), never fillers.
"""
from __future__ import annotations

import time
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from genesys.evaluate.runner import format_table, proxy_table
from genesys.gau import GAUTree, GenesysLM
from genesys.verify.record import VerificationRecord


def proxy_params(tree: GAUTree, d_model: int, n_block: int) -> dict:
    """The design's size at the proxy scale, counted on the meta device. The proxy's vocabularies differ per
    task, so the total (with embeddings) is not one number: absent."""
    lm = GenesysLM.from_design(tree, d_model=d_model, n_block=n_block, vocab_size=2, device="meta")
    return {"total": None, "non_embedding": lm.num_params(non_embedding=True), "d_model": d_model, "n_block": n_block}


def run_proxy_rung(cfg: DictConfig, tree: GAUTree, run_dir) -> VerificationRecord:
    start = time.perf_counter()
    table = proxy_table(cfg.eval, tree)
    seconds = round(time.perf_counter() - start, 3)
    print(format_table(f"evaluation [proxy] {tree.name}", table), flush=True)
    train = cfg.eval.proxy.train
    record = VerificationRecord(
        design=tree.name, scale="proxy", params=proxy_params(tree, train.d_model, train.n_block),
        tokens=None, time_s=seconds, train_loss=None, val_loss=None, val_bits_per_byte=None, unigram_val_loss=None,
        stop_reason="completed", paths={"run_dir": str(run_dir), "record": str(Path(run_dir) / "record.json")},
        autotune={}, eval={"proxy": table, "seconds": seconds}, config=OmegaConf.to_container(cfg, resolve=True))
    record.write(Path(run_dir) / "record.json")
    return record
