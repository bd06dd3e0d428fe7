# expect: numerics
# data-dependent decay as A_t = cumprod(a) and y = A * cumsum(v / A): A underflows to 0 at long lengths
import math

import torch
import torch.nn.functional as F
from torch import nn

from genesys.gau import GAUBase


class NumericsCumprodDecay(GAUBase):
    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        self.value = nn.Linear(embed_dim, embed_dim, **self.factory_kwargs)
        self.decay = nn.Linear(embed_dim, embed_dim, **self.factory_kwargs)

    def _forward(self, X, **Z):
        a = 0.8 + 0.19 * torch.sigmoid(self.decay(X))                   # per-token decay in (0.8, 0.99)
        A = torch.cumprod(a, 1)
        v = (1 - a) * self.value(X)
        return X + A * torch.cumsum(v / A, 1)
