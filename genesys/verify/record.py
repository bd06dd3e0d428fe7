"""The verification record: what one (design, scale) pre-training run produced, written as JSON."""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Optional

LN2 = math.log(2)


def bits_per_byte(loss_nats_per_token: float, tokens: int, n_bytes: int) -> float:
    """Tokenizer-independent loss: nats/token x tokens/byte, in bits."""
    return loss_nats_per_token * tokens / n_bytes / LN2


@dataclass
class VerificationRecord:
    """Every field is measured or None: a rung that does not measure something leaves it absent, never 0."""

    design: str
    scale: str
    params: dict                         # {"total": int, "non_embedding": int} (a value None where not measured)
    tokens: Optional[int]                # training tokens actually seen (None: the rung trains no LM)
    time_s: float                        # wall time of training (this process, resumed runs add up)
    train_loss: Optional[float]
    val_loss: Optional[float]
    val_bits_per_byte: Optional[float]
    unigram_val_loss: Optional[float]    # baseline: train-unigram cross-entropy of the validation tokens
    stop_reason: str                     # completed | nan_loss | loss_too_high | loss_nonpositive | grad_norm | too_slow
    paths: dict                          # {"run_dir", "logs", "checkpoint", "wandb", "record"}
    autotune: dict
    eval: Optional[dict] = None          # filled by the evaluation engine
    stop_detail: Optional[str] = None
    steps: int = 0
    resumed_from_step: int = 0
    config: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    def write(self, path: Path) -> Path:
        path = Path(path)
        path.write_text(json.dumps(self.to_dict(), indent=2, default=str))
        return path

    @classmethod
    def read(cls, path: Path) -> "VerificationRecord":
        return cls(**json.loads(Path(path).read_text()))
