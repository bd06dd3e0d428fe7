# expect: gradient
# binary weights sign(W) * alpha (BitNet without the straight-through trick): W is dead
import math

import torch
import torch.nn.functional as F
from torch import nn

from genesys.gau import GAUBase


class GradDeadSignBinary(GAUBase):
    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        self.weight = nn.Parameter(torch.randn(embed_dim, embed_dim, **self.factory_kwargs) * 0.02)
        self.alpha = nn.Parameter(torch.tensor(0.02, **self.factory_kwargs))

    def _forward(self, X, **Z):
        H = F.linear(X, torch.sign(self.weight)) * self.alpha
        return X + torch.cumsum(H, 1) / X.shape[1]
