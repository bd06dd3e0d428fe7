# expect: causality
# depthwise conv with 'same' padding sees k//2 future positions
import math

import torch
import torch.nn.functional as F
from torch import nn

from genesys.gau import GAUBase


class LeakSamePaddingConv(GAUBase):
    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        self.conv = nn.Conv1d(embed_dim, embed_dim, 3, padding=1, groups=embed_dim, **self.factory_kwargs)

    def _forward(self, X, **Z):
        return X + self.conv(X.transpose(1, 2)).transpose(1, 2)
