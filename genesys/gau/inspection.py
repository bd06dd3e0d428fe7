"""What a design is made of: per-unit parameter counts and the LM size at each paper scale (pure, meta device)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List

import torch

from genesys.gau.build import build_block
from genesys.gau.lm import GenesysLM
from genesys.gau.tree import GAUTree
from genesys.scales import load_ladder


@dataclass
class ScaleSize:
    scale: str
    d_model: int
    n_block: int
    total: int
    non_embedding: int
    reference: int

    @property
    def ratio(self) -> float:
        return self.total / self.reference


def _is_unit(module: torch.nn.Module) -> bool:
    return hasattr(module, "_forward") and hasattr(module, "kwarg_all")


def unit_param_counts(tree: GAUTree, embed_dim: int) -> Dict[str, int]:
    """Parameters owned by each unit class (not by its child units) in one block, summed over instances."""
    block = build_block(tree, embed_dim=embed_dim, block_loc=(0, 1), device="meta")
    counts: Dict[str, int] = {name: 0 for name in tree.implemented()}

    def own(module: torch.nn.Module) -> int:
        total = sum(p.numel() for p in module.parameters(recurse=False))
        for child in module.children():
            if not _is_unit(child):
                total += own(child)
        return total

    for module in block.modules():
        if _is_unit(module):
            name = type(module).__name__
            counts[name] = counts.get(name, 0) + own(module)
    return counts


def sizes_at_paper_scales(tree: GAUTree, vocab_size: int = 32000) -> List[ScaleSize]:
    """The design's LM at each paper scale's default (d_model, n_block), against the GPT reference size."""
    rows = []
    for scale in load_ladder("paper"):
        lm = GenesysLM.from_design(tree, d_model=scale.d_model, n_block=scale.n_block, vocab_size=vocab_size,
                                   device="meta")
        rows.append(ScaleSize(scale.name, scale.d_model, scale.n_block, lm.num_params(),
                              lm.num_params(non_embedding=True), scale.ref_params))
    return rows
