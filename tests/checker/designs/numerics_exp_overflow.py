# expect: numerics
# unbounded exponent overflows to inf for unit-scale inputs
import math

import torch
import torch.nn.functional as F
from torch import nn

from genesys.gau import GAUBase


class NumericsExpOverflow(GAUBase):
    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        self.proj = nn.Linear(embed_dim, embed_dim, **self.factory_kwargs)

    def _forward(self, X, **Z):
        return X + torch.exp(200.0 * self.proj(X).abs().sum(-1, keepdim=True)) * 0 + self.proj(X)
