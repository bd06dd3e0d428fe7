# expect: valid
# weights quantised by round() with a straight-through estimator: the gradient passes
import math

import torch
import torch.nn.functional as F
from torch import nn

from genesys.gau import GAUBase


class ValidSteQuant(GAUBase):
    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        self.weight = nn.Parameter(torch.randn(embed_dim, embed_dim, **self.factory_kwargs) / math.sqrt(embed_dim))
        self.scale = nn.Parameter(torch.ones(embed_dim, **self.factory_kwargs))

    def _forward(self, X, **Z):
        W = self.weight + (torch.round(self.weight * 16) / 16 - self.weight).detach()
        H = F.linear(X, W) * self.scale
        return X + torch.cumsum(H, 1) / X.shape[1]
