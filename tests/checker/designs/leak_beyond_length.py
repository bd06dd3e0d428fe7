# expect: causality
# chunked scan whose chunk summaries are shifted the wrong way: causal below 128 positions, leaks beyond
import math

import torch
import torch.nn.functional as F
from torch import nn

from genesys.gau import GAUBase


class LeakBeyondLength(GAUBase):
    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        self.proj = nn.Linear(embed_dim, embed_dim, **self.factory_kwargs)

    def _forward(self, X, **Z):
        B, L, D = X.shape
        H = self.proj(X)
        out = torch.cumsum(H, dim=1) / torch.arange(1, L + 1, dtype=X.dtype).view(1, L, 1)
        if L > 128:  # "carry" from the chunk that follows (bug: should be the one before)
            out = out.clone()
            out[:, :128] = out[:, :128] + H[:, 128:129]
        return X + out
