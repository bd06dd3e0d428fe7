# expect: causality
# a stop-gradient next-token target mixed in at 1e-6: invisible to the gradient probe and below float32 tolerance
import math

import torch
import torch.nn.functional as F
from torch import nn

from genesys.gau import GAUBase


class LeakTinyDetachedLookahead(GAUBase):
    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        self.proj = nn.Linear(embed_dim, embed_dim, **self.factory_kwargs)

    def _forward(self, X, **Z):
        H = self.proj(X)
        target = torch.roll(X, -1, dims=1).detach()          # the next token's input, as a fixed target
        return X + torch.cumsum(H, 1) / X.shape[1] + 1e-6 * (target - H.detach())
