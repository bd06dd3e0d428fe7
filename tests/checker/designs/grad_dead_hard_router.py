# expect: gradient
# hard routing by rounding the router's probabilities: round() cuts the router (and the experts it never opens)
import math

import torch
import torch.nn.functional as F
from torch import nn

from genesys.gau import GAUBase


class GradDeadHardRouter(GAUBase):
    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        self.router = nn.Linear(embed_dim, 4, **self.factory_kwargs)
        self.experts = nn.Linear(embed_dim, 4 * embed_dim, **self.factory_kwargs)
        self.mix = nn.Linear(embed_dim, embed_dim, **self.factory_kwargs)

    def _forward(self, X, **Z):
        B, L, D = X.shape
        Y = X + torch.cumsum(self.mix(X), 1) / L
        hard = torch.round(torch.softmax(self.router(Y), -1))       # one-hot where an expert is confident, else 0
        E = self.experts(Y).view(B, L, 4, D)
        return Y + (hard.unsqueeze(-1) * E).sum(2)
