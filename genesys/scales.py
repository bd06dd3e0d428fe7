"""The paper's model-size ladder (DESIGN §6): pure constants shared by autotune, inspection and tests."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PaperScale:
    name: str
    d_model: int
    n_block: int
    reference_params: int  # total, tied embeddings, Llama-2 vocabulary (32000)
    lr: float
    tokens_per_param: int


PAPER_VOCAB = 32000
PAPER_CONTEXT = 2048
PAPER_BATCH_TOKENS = 2 ** 19  # 0.5M tokens

PAPER_SCALES = {
    s.name: s
    for s in (
        PaperScale("14M", 128, 6, 5_280_000, 1e-3, 50),
        PaperScale("31M", 256, 6, 12_900_000, 1e-3, 40),
        PaperScale("70M", 512, 6, 35_300_000, 1e-3, 30),
        PaperScale("125M", 768, 12, 109_600_000, 6e-4, 20),
        PaperScale("350M", 1024, 24, 334_900_000, 3e-4, 20),
    )
}


def reference_params(d_model: int, n_block: int, vocab_size: int = PAPER_VOCAB) -> int:
    """The GPT reference size the paper's table is built from: tied embedding + n_block * 12 d^2."""
    return vocab_size * d_model + n_block * 12 * d_model * d_model
