# expect: numerics
# log of a negative number in the forward
import math

import torch
import torch.nn.functional as F
from torch import nn

from genesys.gau import GAUBase


class NumericsNan(GAUBase):
    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        self.proj = nn.Linear(embed_dim, embed_dim, **self.factory_kwargs)

    def _forward(self, X, **Z):
        return X + self.proj(X) * torch.log(-torch.ones(1))
