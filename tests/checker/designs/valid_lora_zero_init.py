# expect: valid
# a mixer plus a low-rank adapter whose two halves both start at zero (zero gradient at init only)
import math

import torch
import torch.nn.functional as F
from torch import nn

from genesys.gau import GAUBase


class ValidLoraZeroInit(GAUBase):
    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        self.mix = nn.Linear(embed_dim, embed_dim, **self.factory_kwargs)
        self.lora_a = nn.Parameter(torch.zeros(8, embed_dim, **self.factory_kwargs))
        self.lora_b = nn.Parameter(torch.zeros(embed_dim, 8, **self.factory_kwargs))

    def _forward(self, X, **Z):
        H = self.mix(X) + F.linear(F.linear(X, self.lora_a), self.lora_b)
        return X + torch.cumsum(H, 1) / X.shape[1]
