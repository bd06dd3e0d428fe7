"""The LightningModule that pre-trains a GenesysLM: AdamW, linear warm-up then cosine decay to a floor,
gradient clipping (the pre-clip norm is kept for the run monitor)."""
from __future__ import annotations

import math

import lightning as L
import torch

from genesys.gau import GenesysLM, param_groups


def lr_factor(step: int, warmup_steps: int, total_steps: int, min_ratio: float = 0.1) -> float:
    """Multiplier of the peak lr at an optimizer step: linear warm-up, then cosine from 1 down to min_ratio."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
    return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress))


class LMModule(L.LightningModule):
    def __init__(self, lm: GenesysLM, lr: float, total_steps: int, warmup_fraction: float = 0.02,
                 min_lr_ratio: float = 0.1, weight_decay: float = 0.1, betas=(0.9, 0.95), grad_clip: float = 1.0):
        super().__init__()
        self.lm = lm
        self.save_hyperparameters(ignore=["lm"])
        self.warmup_steps = max(1, round(warmup_fraction * total_steps))
        self.grad_norm = None         # pre-clipping global norm of the last optimizer step

    def forward(self, input_ids):
        return self.lm(input_ids)

    def training_step(self, batch, batch_idx):
        loss = self.lm(batch, labels=batch).loss
        self.log("train/loss", loss, prog_bar=True)
        return loss

    def validation_step(self, batch, batch_idx):
        loss = self.lm(batch, labels=batch).loss
        self.log("val/loss", loss, prog_bar=True, sync_dist=True)
        return loss

    def configure_optimizers(self):
        hp = self.hparams
        fused = next(self.lm.parameters()).device.type == "cuda"
        opt = torch.optim.AdamW(param_groups(self.lm, hp.weight_decay), lr=hp.lr, betas=tuple(hp.betas),
                                fused=fused)
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda s: lr_factor(s, self.warmup_steps, hp.total_steps, hp.min_lr_ratio))
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}

    def configure_gradient_clipping(self, optimizer, gradient_clip_val=None, gradient_clip_algorithm=None):
        """Clip to hparams.grad_clip ourselves so the norm clipping computes is also what the monitor sees."""
        max_norm = self.hparams.grad_clip if self.hparams.grad_clip else float("inf")
        norm = torch.nn.utils.clip_grad_norm_(self.lm.parameters(), max_norm)
        self.grad_norm = norm.detach()
        self.log("train/grad_norm", self.grad_norm)
