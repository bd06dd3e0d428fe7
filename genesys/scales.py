"""Scales and ladders: the paper's five verification scales and the CPU ladder, read from conf/scale and
conf/ladder (the YAML files are the single source of truth; this module gives them a type). Below every other
package (gau inspection, verify and selection all use it); it imports only genesys.paths."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import List, Optional

from omegaconf import OmegaConf

from genesys.paths import CONF_DIR


@dataclass(frozen=True)
class Scale:
    """One rung: the reference shape and size, optimiser settings and the token budget rule."""
    name: str
    d_model: int               # reference width (the GPT-2 seed's shape at this scale)
    n_block: int               # reference depth
    ref_params: int            # reference total parameter count (tied embedding) at ref_vocab
    ref_vocab: int             # vocabulary the reference count assumes (32000: Llama-2 tokenizer)
    lr: float
    token_multiplier: float    # training tokens = total parameters x this
    context: int
    batch_tokens: int          # global batch in tokens (0.5M in the paper)
    d_step: int = 64           # autotune: widths are multiples of this
    init_std: Optional[float] = None  # std of linear/embedding weights at init; None: the LM's GPT-2 0.02
    warmup_fraction: Optional[float] = None   # share of the steps spent warming the lr up; None: train's (2 %)

    @property
    def batch_seqs(self) -> int:
        return max(1, self.batch_tokens // self.context)

    def target_params(self, vocab_size: int) -> int:
        """The reference count moved to another vocabulary (the non-embedding budget stays the same)."""
        return self.ref_params + (vocab_size - self.ref_vocab) * self.d_model

    def to_dict(self) -> dict:
        return asdict(self)


def scale_from_cfg(cfg) -> Scale:
    data = OmegaConf.to_container(cfg, resolve=True) if OmegaConf.is_config(cfg) else dict(cfg)
    return Scale(**data)


def load_scale(name: str) -> Scale:
    return scale_from_cfg(OmegaConf.load(CONF_DIR / "scale" / f"{name}.yaml"))


def all_scales() -> List[Scale]:
    return [load_scale(p.stem) for p in sorted((CONF_DIR / "scale").glob("*.yaml"))]


def load_ladder(name: str) -> List[Scale]:
    """The rungs of a ladder, cheapest first."""
    return [load_scale(s) for s in OmegaConf.load(CONF_DIR / "ladder" / f"{name}.yaml").scales]
