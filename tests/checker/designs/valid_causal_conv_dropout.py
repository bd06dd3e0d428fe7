# expect: valid
# left-padded depthwise conv plus dropout (training-mode randomness is fine)
import math

import torch
import torch.nn.functional as F
from torch import nn

from genesys.gau import GAUBase


class ValidCausalConvDropout(GAUBase):
    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        self.conv = nn.Conv1d(embed_dim, embed_dim, 4, groups=embed_dim, **self.factory_kwargs)
        self.drop = nn.Dropout(0.1)
        self.proj = nn.Linear(embed_dim, embed_dim, **self.factory_kwargs)

    def _forward(self, X, **Z):
        H = self.conv(F.pad(X.transpose(1, 2), (3, 0))).transpose(1, 2)
        return X + self.drop(self.proj(F.silu(H)))
