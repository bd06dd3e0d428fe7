# expect: causality
# a 1e-6 contribution of the next position on top of a causal mixer: below the float32 tolerance of 1e-5
import math

import torch
import torch.nn.functional as F
from torch import nn

from genesys.gau import GAUBase


class LeakTinyNextToken(GAUBase):
    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        self.proj = nn.Linear(embed_dim, embed_dim, **self.factory_kwargs)

    def _forward(self, X, **Z):
        H = self.proj(X)
        return X + torch.cumsum(H, 1) / X.shape[1] + 1e-6 * torch.roll(H, -1, dims=1)
