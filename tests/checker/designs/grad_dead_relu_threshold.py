# expect: gradient
# a sparse MLP whose ReLU threshold starts far above its inputs: the ReLU never opens
import math

import torch
import torch.nn.functional as F
from torch import nn

from genesys.gau import GAUBase


class GradDeadReluThreshold(GAUBase):
    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        self.up = nn.Linear(embed_dim, 2 * embed_dim, **self.factory_kwargs)
        self.down = nn.Linear(2 * embed_dim, embed_dim, **self.factory_kwargs)
        self.threshold = nn.Parameter(torch.full((2 * embed_dim,), 4.0, **self.factory_kwargs))
        self.mix = nn.Linear(embed_dim, embed_dim, **self.factory_kwargs)

    def _forward(self, X, **Z):
        Y = X + torch.cumsum(self.mix(X), 1) / X.shape[1]
        return Y + self.down(F.relu(self.up(Y) - self.threshold))
