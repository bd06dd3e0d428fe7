# expect: numerics
# EMA in factorised form gamma^t * cumsum(gamma^-s * u): finite up to ~400 tokens, inf at the 2048 context
import math

import torch
import torch.nn.functional as F
from torch import nn

from genesys.gau import GAUBase


class NumericsFactorisedDecay(GAUBase):
    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        self.value = nn.Linear(embed_dim, embed_dim, **self.factory_kwargs)
        self.decay_logit = nn.Parameter(torch.linspace(1.4, 4.6, embed_dim, **self.factory_kwargs))  # gamma .8-.99

    def _forward(self, X, **Z):
        L = X.shape[1]
        log_g = F.logsigmoid(self.decay_logit)                          # log gamma < 0, per channel
        t = torch.arange(L, dtype=X.dtype).view(1, L, 1)
        u = (1 - log_g.exp()) * self.value(X)
        return X + torch.exp(t * log_g) * torch.cumsum(torch.exp(-t * log_g) * u, 1)
