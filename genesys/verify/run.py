"""One verification: fit the design to the scale, pre-train it with Lightning, write the record.

`verify(cfg, run_dir)` is what the Hydra app calls; it is also usable from Python with a composed config.
Re-running the same (design, scale) in the same run folder resumes from the last checkpoint (a finished run
returns its result again without training).
"""
from __future__ import annotations

import hashlib
import json
import logging
import math
import shutil
from pathlib import Path
from typing import Optional

import lightning as L
import torch
from lightning.pytorch.callbacks import ModelCheckpoint, RichProgressBar
from omegaconf import DictConfig, OmegaConf
from torch.utils.data import DataLoader

from genesys.gau import GenesysLM, compose, load_design
from genesys.paths import resolve_design
from genesys.verify import autotune, tracking
from genesys.verify.data import prepare_data
from genesys.verify.loader import EvalWindows, TrainWindows
from genesys.verify.module import LMModule
from genesys.verify.monitor import RunMonitor
from genesys.verify.proxy_rung import is_proxy_rung, verify_proxy
from genesys.verify.record import VerificationRecord, bits_per_byte
from genesys.scales import scale_from_cfg

log = logging.getLogger(__name__)


def _finite(x) -> Optional[float]:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def data_seed(cfg: DictConfig) -> int:
    """The seed of the training data order: `train.data_seed`, or the run's `seed` when that is null.

    Why separate: with one fixed data order for every design and every init seed, two designs see the same
    batches in the same order (common random numbers), so their comparison is paired and a spread over `seed`
    measures the init's noise alone."""
    value = cfg.train.get("data_seed")
    return int(cfg.seed if value is None else value)


def warmup_fraction_for(cfg: DictConfig, scale) -> float:
    """`train.warmup_fraction` if set, else the scale's, else the paper's 2 %. Why a rung sets it: at cpu_xs a 2 %
    warm-up (~20 steps at lr 1e-2) let one init seed of rwkv6 start worse and stay 0.06 nats behind the others."""
    value = cfg.train.get("warmup_fraction")
    value = scale.warmup_fraction if value is None else value
    return 0.02 if value is None else float(value)


def init_std_for(cfg: DictConfig, scale) -> Optional[float]:
    """The init std of this run: `train.init_std` if set, else the scale's `init_std`, else None (GPT-2's 0.02).
    The same std at whatever width autotune gives a design: following the width (std ~ 1/sqrt(d)) was tried and made
    rwkv6 at cpu_xs (d 48) noisier, sd over init seeds 0.005 -> 0.045 (BENCHMARKS.md "Rung noise").

    Why a rung sets it: N(0, 0.02) is tuned for d_model 768; at cpu_xs (d 64) it left gpt2's attention on the
    unigram plateau for most of the run with some init seeds (val loss 5.18 / 5.26 / 5.77 over seeds 0/1/2)."""
    value = cfg.train.get("init_std")
    value = scale.init_std if value is None else value
    return None if value is None else float(value)


def _run_key(design_src: str, cfg: DictConfig, data_folder: str) -> str:
    """Identity of a training run: a checkpoint only resumes a run with the same key."""
    parts = {"design": design_src, "scale": OmegaConf.to_container(cfg.scale, resolve=True), "data": data_folder,
             "train": OmegaConf.to_container(cfg.train, resolve=True), "seed": cfg.seed,
             "autotune": OmegaConf.to_container(cfg.autotune, resolve=True)}
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _checkpoint_to_resume(ckpt_dir: Path, key: str, resume: bool) -> Optional[Path]:
    key_file = ckpt_dir / "run_key.txt"
    last = ckpt_dir / "last.ckpt"
    if resume and last.exists() and key_file.exists() and key_file.read_text() == key:
        return last
    if ckpt_dir.exists():
        if last.exists():
            log.warning("not resuming %s (%s); starting fresh", last, "resume=false" if not resume else "config changed")
        shutil.rmtree(ckpt_dir)
    ckpt_dir.mkdir(parents=True)
    key_file.write_text(key)
    return None


def verify(cfg: DictConfig, run_dir: Path) -> VerificationRecord:
    if is_proxy_rung(cfg):  # the synthetic rung: no LM pre-training (genesys.evaluate)
        return verify_proxy(cfg, run_dir)
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    L.seed_everything(cfg.seed, workers=True)
    if cfg.hardware.get("matmul_precision"):
        torch.set_float32_matmul_precision(cfg.hardware.matmul_precision)

    # Data and design.
    data = prepare_data(cfg.data)
    tokenizer = data.tokenizer
    vocab = data.vocab_size
    tree = load_design(str(resolve_design(cfg.design)))
    scale = scale_from_cfg(cfg.scale)

    # Autotune: shape on the meta device, then micro-batch x accumulation for the device.
    shape = autotune.choose_shape(tree, scale, vocab, tolerance=cfg.autotune.tolerance,
                                  near_width_tolerance=cfg.autotune.near_width_tolerance)
    if not shape.within_tolerance:
        log.warning("autotune: %s at %s lands %.1f%% off the reference", tree.name, scale.name, 100 * shape.rel_error)
    lm = GenesysLM.from_design(tree, d_model=shape.d_model, n_block=shape.n_block, vocab_size=vocab)
    init_std = init_std_for(cfg, scale)
    if init_std is not None:  # the rung's init scale instead of GPT-2's 0.02 (tuned for d 768)
        lm.init_std = init_std
        lm.reset_parameters()
    on_gpu = cfg.hardware.accelerator in ("gpu", "cuda") and torch.cuda.is_available()
    if on_gpu:
        lm = lm.cuda()
    batch = autotune.choose_batch(lm, scale, vocab, cfg.hardware.get("memory_budget_gb"),
                                  cfg.autotune.get("max_micro_batch"))
    params = {"total": lm.num_params(), "non_embedding": lm.num_params(non_embedding=True)}

    # Budget: tokens = parameters x the scale's multiplier (or an explicit override), in optimizer steps.
    budget_tokens = cfg.train.get("tokens") or int(params["total"] * scale.token_multiplier)
    steps = max(1, math.ceil(budget_tokens / (batch.global_batch * scale.context)))
    if cfg.train.get("max_steps"):
        steps = min(steps, int(cfg.train.max_steps))

    ckpt_dir = run_dir / "checkpoints"
    resume_from = _checkpoint_to_resume(ckpt_dir, _run_key(compose(tree), cfg, data.folder.name), cfg.resume)
    start_step = 0
    if resume_from is not None:
        start_step = torch.load(resume_from, map_location="cpu", weights_only=False, mmap=True)["global_step"]
        log.info("resuming from %s at step %d", resume_from, start_step)

    train_set = TrainWindows(data.tokens("train"), scale.context, steps * batch.global_batch,
                             start=start_step * batch.global_batch, seed=data_seed(cfg))
    val_set = EvalWindows(data.tokens("validation"), scale.context, cfg.train.val_windows)
    loader_kw = dict(num_workers=cfg.hardware.num_workers, pin_memory=on_gpu,
                     persistent_workers=cfg.hardware.num_workers > 0)
    train_loader = DataLoader(train_set, batch_size=batch.micro_batch, shuffle=False, drop_last=True, **loader_kw)
    val_loader = DataLoader(val_set, batch_size=batch.micro_batch, shuffle=False, **loader_kw)

    module = LMModule(lm, lr=scale.lr, total_steps=steps, warmup_fraction=warmup_fraction_for(cfg, scale),
                      min_lr_ratio=cfg.train.min_lr_ratio, weight_decay=cfg.train.weight_decay,
                      betas=tuple(cfg.train.betas), grad_clip=cfg.train.grad_clip)
    monitor = RunMonitor(max_loss=cfg.monitor.max_loss, max_grad_norm=cfg.monitor.max_grad_norm,
                         expected_step_s=cfg.monitor.expected_step_s, time_tolerance=cfg.monitor.time_tolerance)
    checkpoint = ModelCheckpoint(dirpath=ckpt_dir, filename="step{step}", auto_insert_metric_name=False,
                                 every_n_train_steps=cfg.train.ckpt_every, save_top_k=0, save_last=True)
    callbacks = [monitor, checkpoint] + ([RichProgressBar()] if cfg.train.progress_bar else [])
    loggers = tracking.build_loggers(cfg.logger, run_dir, tree.name, scale.name)
    autotune_result = {**autotune.as_dict(shape, batch), "init_std": lm.init_std}   # the std this run used
    for logger in loggers:
        logger.log_hyperparams({"design": tree.name, "design_path": cfg.design, "scale": scale.to_dict(),
                                "params": params, "autotune": autotune_result, "steps": steps,
                                "config": OmegaConf.to_container(cfg, resolve=True)})

    val_every = max(1, steps // max(1, cfg.train.val_times))
    trainer = L.Trainer(accelerator="gpu" if on_gpu else "cpu", devices=1, precision=cfg.hardware.precision,
                        max_steps=steps, accumulate_grad_batches=batch.accumulation,
                        val_check_interval=val_every * batch.accumulation, check_val_every_n_epoch=None,
                        num_sanity_val_steps=0, logger=loggers, callbacks=callbacks,
                        log_every_n_steps=cfg.train.log_every, enable_progress_bar=cfg.train.progress_bar,
                        enable_model_summary=False, default_root_dir=str(run_dir), benchmark=on_gpu)
    trainer.fit(module, train_loader, val_loader, ckpt_path=str(resume_from) if resume_from else None)
    trainer.save_checkpoint(ckpt_dir / "last.ckpt")
    train_loss = _finite(trainer.callback_metrics.get("train/loss"))
    val_loss = _finite(trainer.validate(module, val_loader, verbose=False)[0]["val/loss"])
    val_stats = data.meta["validation"]

    # ---------------------------------------------------------------------------------------------------
    # EVALUATION HOOK (owned by the evaluation engine). Available here: `module.lm` (the trained GenesysLM,
    # on the training device), `tokenizer` (PreTrainedTokenizerFast with EOS), `data` (PreparedData: held-out
    # documents via data.documents("validation"/"test")), `cfg`, `loggers` (W&B run still open).
    eval_result = None
    if cfg.get("eval"):
        from genesys.evaluate.runner import evaluate_trained
        eval_result = evaluate_trained(cfg.eval, module.lm, tokenizer, data, run_dir, tree, scale.context)
    # ---------------------------------------------------------------------------------------------------

    record = VerificationRecord(
        design=tree.name, scale=scale.name, params=params, tokens=trainer.global_step * batch.global_batch * scale.context,
        time_s=round(monitor.elapsed_s, 3), train_loss=train_loss, val_loss=val_loss,
        val_bits_per_byte=bits_per_byte(val_loss, val_stats["tokens"], val_stats["bytes"]) if val_loss else None,
        unigram_val_loss=data.meta["unigram_val_loss"], stop_reason=monitor.stop_reason or "completed",
        stop_detail=monitor.stop_detail, steps=trainer.global_step, resumed_from_step=start_step,
        paths={"run_dir": str(run_dir), "logs": str(Path(loggers[0].log_dir) / "metrics.csv"),
               "checkpoint": str(ckpt_dir / "last.ckpt"), "wandb": tracking.wandb_run_dir(loggers),
               "wandb_run_id": tracking.wandb_run_id(loggers),
               "record": str(run_dir / "record.json"), "data": str(data.folder)},
        autotune=autotune_result, eval=eval_result,
        config=OmegaConf.to_container(cfg, resolve=True))
    record.write(run_dir / "record.json")
    tracking.finish(loggers, {k: v for k, v in record.to_dict().items()
                              if k in ("train_loss", "val_loss", "val_bits_per_byte", "unigram_val_loss", "tokens",
                                       "time_s", "stop_reason", "steps")})
    log.info("verification record: %s", run_dir / "record.json")
    return record
