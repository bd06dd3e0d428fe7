# expect: valid
# a branch with its own bias behind a zero-initialised gate (ReZero): branch and bias get gradient after one step
import math

import torch
import torch.nn.functional as F
from torch import nn

from genesys.gau import GAUBase


class ValidZeroGateBias(GAUBase):
    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        self.mix = nn.Linear(embed_dim, embed_dim, bias=False, **self.factory_kwargs)
        self.bias = nn.Parameter(torch.zeros(embed_dim, **self.factory_kwargs))
        self.gate = nn.Parameter(torch.zeros(embed_dim, **self.factory_kwargs))

    def _forward(self, X, **Z):
        H = self.mix(torch.cumsum(X, 1) / torch.arange(1, X.shape[1] + 1, dtype=X.dtype).view(1, -1, 1))
        return X + self.gate * (H + self.bias)
