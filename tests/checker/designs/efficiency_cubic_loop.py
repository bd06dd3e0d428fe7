# expect: efficiency
# recomputes full prefix attention for every position: cubic cost
import math

import torch
import torch.nn.functional as F
from torch import nn

from genesys.gau import GAUBase


class EfficiencyCubicLoop(GAUBase):
    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        self.proj = nn.Linear(embed_dim, embed_dim, **self.factory_kwargs)

    def _forward(self, X, **Z):
        outs = []
        for t in range(X.shape[1]):
            prefix = X[:, :t + 1]
            A = torch.softmax(prefix @ prefix.transpose(1, 2), -1)      # (t+1) x (t+1) for a single output
            outs.append((A @ prefix)[:, -1])
        return X + self.proj(torch.stack(outs, 1))
