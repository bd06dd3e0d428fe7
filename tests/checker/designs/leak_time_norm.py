# expect: causality
# normalisation over the time axis (statistics of the whole sequence)
import math

import torch
import torch.nn.functional as F
from torch import nn

from genesys.gau import GAUBase


class LeakTimeNorm(GAUBase):
    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        self.proj = nn.Linear(embed_dim, embed_dim, **self.factory_kwargs)

    def _forward(self, X, **Z):
        H = self.proj(X)
        return X + (H - H.mean(dim=1, keepdim=True)) / (H.pow(2).mean(dim=1, keepdim=True).sqrt() + 1e-5)
