"""eval=proxy: the synthetic proxy rung alone (no LM pre-training), recorded like any verification (scale "proxy").

Only what the rung measures goes into the record: the suite's table, its time, and the design's non-embedding
parameters at the proxy size. LM fields (tokens, losses, the unigram baseline) are absent (None), never fillers.
"""
from __future__ import annotations

import random
import time
from pathlib import Path

import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf

from genesys.evaluate.runner import format_table, proxy_table
from genesys.gau import GAUTree, GenesysLM, load_design
from genesys.paths import resolve_design
from genesys.verify.record import VerificationRecord


def proxy_params(tree: GAUTree, d_model: int, n_block: int) -> dict:
    """The design's size at the proxy scale, counted on the meta device. The proxy's vocabularies differ per
    task, so the total (with embeddings) is not one number: absent."""
    lm = GenesysLM.from_design(tree, d_model=d_model, n_block=n_block, vocab_size=2, device="meta")
    return {"total": None, "non_embedding": lm.num_params(non_embedding=True), "d_model": d_model, "n_block": n_block}


def is_proxy_rung(cfg: DictConfig) -> bool:
    return bool(cfg.get("eval")) and cfg.eval.kind == "proxy"


def seed_all(seed: int) -> None:
    """Python, NumPy and torch seeded like Lightning's seed_everything, without importing Lightning: the rung trains
    no Lightning model, and its import (with torchmetrics' optional integrations) is ~3 s of every proxy child."""
    random.seed(seed)
    np.random.seed(seed % 2 ** 32)
    torch.manual_seed(seed)


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


def verify_proxy(cfg: DictConfig, run_dir) -> VerificationRecord:
    """`verify` for eval=proxy (what `python -m genesys.verify eval=proxy` runs)."""
    Path(run_dir).mkdir(parents=True, exist_ok=True)
    if cfg.hardware.get("matmul_precision"):
        torch.set_float32_matmul_precision(cfg.hardware.matmul_precision)
    seed_all(cfg.seed)
    return run_proxy_rung(cfg, load_design(str(resolve_design(cfg.design))), run_dir)
