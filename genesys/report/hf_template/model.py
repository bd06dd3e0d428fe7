"""A Genesys design's language model in plain PyTorch (no genesys needed): embedding -> n_block x GAB (the
design's block, in gab.py) -> RMSNorm -> head tied to the embedding.

    import sys; sys.path.insert(0, "<export folder>")
    from model import GenesysModel
    lm = GenesysModel.from_folder("<export folder>")      # weights from model.safetensors when present
    logits = lm(input_ids)                                 # (batch, length, vocab)
"""
import json
import os

import torch.nn.functional as F
from torch import nn

try:
    from .gab import GAB
except ImportError:      # imported as a plain module, the export folder on sys.path
    from gab import GAB


class GenesysModel(nn.Module):
    def __init__(self, d_model, n_block, vocab_size, norm_eps=1e-5, block_kwargs=None):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, d_model)
        self.blocks = nn.ModuleList(GAB(embed_dim=d_model, block_loc=(i, n_block), **(block_kwargs or {}))
                                    for i in range(n_block))
        self.norm = nn.RMSNorm(d_model, eps=norm_eps)

    def forward(self, input_ids):
        X, Z = self.embedding(input_ids), {}
        for block in self.blocks:
            X, Z = block(X, **Z)
        return F.linear(self.norm(X), self.embedding.weight)

    @classmethod
    def from_folder(cls, folder):
        with open(os.path.join(folder, "config.json")) as f:
            cfg = json.load(f)
        model = cls(cfg["d_model"], cfg["n_block"], cfg["vocab_size"], cfg.get("norm_eps", 1e-5),
                    cfg.get("block_kwargs") or {})
        weights = os.path.join(folder, "model.safetensors")
        if os.path.exists(weights):
            from safetensors.torch import load_file
            state = {k[len("model."):]: v for k, v in load_file(weights).items() if k.startswith("model.")}
            model.load_state_dict(state)
        return model.eval()
