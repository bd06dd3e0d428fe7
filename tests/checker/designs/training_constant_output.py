# expect: training
# ignores its input and outputs a learned constant: causal, differentiable, cannot learn
import math

import torch
import torch.nn.functional as F
from torch import nn

from genesys.gau import GAUBase


class TrainingConstantOutput(GAUBase):
    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        self.bias = nn.Parameter(torch.zeros(embed_dim, **self.factory_kwargs))

    def _forward(self, X, **Z):
        return self.bias.expand_as(X) + 0.0 * X
