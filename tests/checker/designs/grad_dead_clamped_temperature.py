# expect: gradient
# a learnable temperature clamped to at most 0.5 but initialised at 1.0: the clamp is always saturated
import math

import torch
import torch.nn.functional as F
from torch import nn

from genesys.gau import GAUBase


class GradDeadClampedTemperature(GAUBase):
    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        self.qk = nn.Linear(embed_dim, 2 * embed_dim, **self.factory_kwargs)
        self.v = nn.Linear(embed_dim, embed_dim, **self.factory_kwargs)
        self.temperature = nn.Parameter(torch.tensor(1.0, **self.factory_kwargs))

    def _forward(self, X, **Z):
        B, L, D = X.shape
        q, k = self.qk(X).chunk(2, -1)
        s = q @ k.transpose(1, 2) / (math.sqrt(D) * torch.clamp(self.temperature, max=0.5))
        s = s.masked_fill(torch.ones(L, L, dtype=torch.bool).triu(1), float("-inf"))
        return X + torch.softmax(s, -1) @ self.v(X)
