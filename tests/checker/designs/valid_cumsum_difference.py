# expect: valid
# causal running mean computed as total minus the later suffix: causal, with float32 round-off from the future
import math

import torch
import torch.nn.functional as F
from torch import nn

from genesys.gau import GAUBase


class ValidCumsumDifference(GAUBase):
    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        self.proj = nn.Linear(embed_dim, embed_dim, **self.factory_kwargs)

    def _forward(self, X, **Z):
        H = self.proj(X)
        suffix = torch.flip(torch.cumsum(torch.flip(H, [1]), 1), [1])   # sum over s >= t
        prefix = H.sum(1, keepdim=True) - suffix + H                     # sum over s <= t, by difference
        return X + prefix / torch.arange(1, X.shape[1] + 1, dtype=X.dtype).view(1, -1, 1)
