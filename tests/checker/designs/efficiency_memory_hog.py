# expect: efficiency
# materialises a (B, L, L, D) tensor for a plain causal mean
import math

import torch
import torch.nn.functional as F
from torch import nn

from genesys.gau import GAUBase


class EfficiencyMemoryHog(GAUBase):
    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        self.proj = nn.Linear(embed_dim, embed_dim, **self.factory_kwargs)

    def _forward(self, X, **Z):
        B, L, D = X.shape
        H = self.proj(X)
        mask = torch.tril(torch.ones(L, L)).view(1, L, L, 1)
        big = H.unsqueeze(1).expand(B, L, L, D) * mask * 1.0
        return X + big.sum(2) / torch.arange(1, L + 1, dtype=X.dtype).view(1, L, 1)
