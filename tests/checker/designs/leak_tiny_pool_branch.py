# expect: causality
# a global-pooling branch gated by a tiny learnable scale (1e-5 at init): a future leak far below float32 round-off
import math

import torch
import torch.nn.functional as F
from torch import nn

from genesys.gau import GAUBase


class LeakTinyPoolBranch(GAUBase):
    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        self.proj = nn.Linear(embed_dim, embed_dim, **self.factory_kwargs)
        self.pool_scale = nn.Parameter(torch.full((embed_dim,), 1e-5, **self.factory_kwargs))

    def _forward(self, X, **Z):
        H = self.proj(X)
        causal_mean = torch.cumsum(H, 1) / torch.arange(1, X.shape[1] + 1, dtype=X.dtype).view(1, -1, 1)
        return X + causal_mean + self.pool_scale * H.mean(1, keepdim=True)
