# expect: valid
# refuses any dtype but float32: the causality repeat in float64 cannot run, the float32 probe decides alone
import math

import torch
import torch.nn.functional as F
from torch import nn

from genesys.gau import GAUBase


class ValidFloat32Only(GAUBase):
    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        self.proj = nn.Linear(embed_dim, embed_dim, **self.factory_kwargs)

    def _forward(self, X, **Z):
        if X.dtype != torch.float32:
            raise TypeError(f"this unit runs in float32 only, got {X.dtype}")
        return X + torch.cumsum(self.proj(X), 1) / X.shape[1]
