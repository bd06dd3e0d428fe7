"""The language model around a design: embedding -> n_block x GAB -> RMSNorm -> tied LM head."""
from __future__ import annotations

import math
from typing import NamedTuple, Optional

import torch
import torch.nn.functional as F
from torch import nn

from genesys.gau.build import load_module
from genesys.gau.compose import compose
from genesys.gau.tree import GAUTree

# Output projections of a block write into the residual stream; GPT-2 scales their init by 1/sqrt(2 n_block).
RESIDUAL_OUTPUT_NAMES = ("out_proj", "o_proj", "c_proj", "down_proj", "fc2", "w2", "output_proj")


class LMOutput(NamedTuple):
    logits: torch.Tensor
    loss: torch.Tensor


class GenesysLM(nn.Module):
    """A causal LM whose blocks are a design's GAB. Z flows from block to block within one forward call."""

    def __init__(self, block_cls, d_model: int, n_block: int, vocab_size: int, block_kwargs: Optional[dict] = None,
                 norm_eps: float = 1e-5, init_std: float = 0.02):
        super().__init__()
        self.d_model, self.n_block, self.vocab_size = d_model, n_block, vocab_size
        self.init_std = init_std
        self.embedding = nn.Embedding(vocab_size, d_model)
        self.blocks = nn.ModuleList(
            block_cls(embed_dim=d_model, block_loc=(i, n_block), **(block_kwargs or {})) for i in range(n_block)
        )
        self.norm = nn.RMSNorm(d_model, eps=norm_eps)
        self.lm_head = nn.Linear(d_model, vocab_size, bias=False)
        self.lm_head.weight = self.embedding.weight
        if self.embedding.weight.device.type != "meta":
            self.reset_parameters()

    @classmethod
    def from_design(cls, tree: GAUTree, d_model: int, n_block: int, vocab_size: int, device=None,
                    dtype: Optional[torch.dtype] = None, **overrides) -> "GenesysLM":
        """Build the LM from a design; `device="meta"` builds it without memory (for parameter counts)."""
        module = load_module(compose(tree), tree.name)
        with torch.device(device or "cpu"):
            lm = cls(module.GAB, d_model, n_block, vocab_size, block_kwargs=overrides)
        if dtype is not None:
            lm = lm.to(dtype)
        return lm

    @torch.no_grad()
    def reset_parameters(self) -> None:
        """GPT-2 init: N(0, 0.02) for linear and embedding weights, zero biases, residual outputs scaled down.

        A unit with special parameters (decays, step sizes, low-rank zeros) re-initialises them in its own
        `_init_weights()`, which runs after its sub-modules got the generic init.
        """
        out_std = self.init_std / math.sqrt(2 * self.n_block)
        for module in self._post_order():
            if isinstance(module, (nn.Linear, nn.Embedding)):
                nn.init.normal_(module.weight, std=self.init_std)
                if getattr(module, "bias", None) is not None:
                    nn.init.zeros_(module.bias)
            for name, child in module.named_children():
                if isinstance(child, nn.Linear) and name in RESIDUAL_OUTPUT_NAMES:
                    nn.init.normal_(child.weight, std=out_std)
            if module is not self and hasattr(module, "_init_weights"):
                module._init_weights()

    def _post_order(self):
        def walk(module):
            for child in module.children():
                yield from walk(child)
            yield module
        yield from walk(self)

    def num_params(self, non_embedding: bool = False) -> int:
        """Parameter count (tied weights once); without the embedding when non_embedding. Works on meta."""
        total = sum(p.numel() for p in self.parameters())
        if non_embedding:
            total -= self.embedding.weight.numel()
        return total

    def hidden(self, input_ids: torch.Tensor, **Z) -> torch.Tensor:
        """The final-norm hidden states (B, L, D): what the LM head reads. Scoring a few positions applies the head
        to those alone (at the CPU scales the head is about half of a forward pass)."""
        X = self.embedding(input_ids)
        for block in self.blocks:
            X, Z = block(X, **Z)
        return self.norm(X)

    def forward(self, input_ids: torch.Tensor, labels: Optional[torch.Tensor] = None, **Z):
        """Logits (B, L, vocab); with labels (same shape as input_ids, -100 ignored), also the mean next-token CE."""
        logits = self.lm_head(self.hidden(input_ids, **Z))
        if labels is None:
            return logits
        loss = F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]).float(), labels[:, 1:].reshape(-1),
                               ignore_index=-100)
        return LMOutput(logits, loss)
