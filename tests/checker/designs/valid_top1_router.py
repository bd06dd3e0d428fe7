# expect: valid
# top-1 routing by argmax/one-hot, weighted by the router's probability: the router learns through the weight
import math

import torch
import torch.nn.functional as F
from torch import nn

from genesys.gau import GAUBase


class ValidTop1Router(GAUBase):
    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        self.router = nn.Linear(embed_dim, 4, **self.factory_kwargs)
        self.experts = nn.Linear(embed_dim, 4 * embed_dim, **self.factory_kwargs)
        self.mix = nn.Linear(embed_dim, embed_dim, **self.factory_kwargs)

    def _forward(self, X, **Z):
        B, L, D = X.shape
        Y = X + torch.cumsum(self.mix(X), 1) / L
        probs = torch.softmax(self.router(Y), -1)
        top = F.one_hot(probs.argmax(-1), 4).to(Y.dtype)           # hard choice, no gradient of its own
        E = self.experts(Y).view(B, L, 4, D)
        return Y + ((top * probs).unsqueeze(-1) * E).sum(2)
