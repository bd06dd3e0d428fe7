# expect: valid
# numerics_factorised_decay's factorised decay inside chunks of 64, state carried between chunks: finite
import math

import torch
import torch.nn.functional as F
from torch import nn

from genesys.gau import GAUBase


class ValidChunkedDecay(GAUBase):
    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        self.value = nn.Linear(embed_dim, embed_dim, **self.factory_kwargs)
        self.decay_logit = nn.Parameter(torch.linspace(1.4, 4.6, embed_dim, **self.factory_kwargs))  # gamma .8-.99
        self.chunk = 64

    def _forward(self, X, **Z):
        B, L, D = X.shape
        log_g = F.logsigmoid(self.decay_logit)
        u = (1 - log_g.exp()) * self.value(X)
        state = X.new_zeros(B, 1, D)
        outs = []
        for start in range(0, L, self.chunk):                           # gamma^-t stays below gamma^-64 within a chunk
            uc = u[:, start:start + self.chunk]
            t = torch.arange(1, uc.shape[1] + 1, dtype=X.dtype).view(1, -1, 1)
            yc = torch.exp(t * log_g) * (state + torch.cumsum(torch.exp(-t * log_g) * uc, 1))
            outs.append(yc)
            state = yc[:, -1:]
        return X + torch.cat(outs, 1)
