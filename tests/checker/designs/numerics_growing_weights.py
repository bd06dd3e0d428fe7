# expect: numerics
# normalised running average with exp(t/20) weights: exp overflows (inf/inf = NaN) past ~1770 tokens
import math

import torch
import torch.nn.functional as F
from torch import nn

from genesys.gau import GAUBase


class NumericsGrowingWeights(GAUBase):
    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        self.value = nn.Linear(embed_dim, embed_dim, **self.factory_kwargs)
        self.rate = nn.Parameter(torch.tensor(0.05, **self.factory_kwargs))

    def _forward(self, X, **Z):
        L = X.shape[1]
        w = torch.exp(self.rate * torch.arange(L, dtype=X.dtype)).view(1, L, 1)    # recent tokens weigh more
        return X + torch.cumsum(w * self.value(X), 1) / torch.cumsum(w, 1)
