# expect: causality
# attention mask off by one: position t also sees t+1
import math

import torch
import torch.nn.functional as F
from torch import nn

from genesys.gau import GAUBase


class LeakOffby1Mask(GAUBase):
    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        self.proj = nn.Linear(embed_dim, embed_dim, **self.factory_kwargs)
        self.qkv = nn.Linear(embed_dim, 3 * embed_dim, bias=False, **self.factory_kwargs)

    def _forward(self, X, **Z):
        B, L, D = X.shape
        q, k, v = self.qkv(X).chunk(3, dim=-1)
        scores = q @ k.transpose(1, 2) / math.sqrt(D)
        scores = scores.masked_fill(torch.triu(torch.ones(L, L, dtype=torch.bool), diagonal=2), float('-inf'))
        return X + self.proj(scores.softmax(-1) @ v)
