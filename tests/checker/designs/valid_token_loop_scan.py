# expect: valid
# gated linear recurrence as a plain per-token Python loop: slow (a few times gpt2's step), but correct
import math

import torch
import torch.nn.functional as F
from torch import nn

from genesys.gau import GAUBase


class ValidTokenLoopScan(GAUBase):
    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        self.gate = nn.Linear(embed_dim, embed_dim, **self.factory_kwargs)
        self.value = nn.Linear(embed_dim, embed_dim, **self.factory_kwargs)
        self.out_proj = nn.Linear(embed_dim, embed_dim, **self.factory_kwargs)

    def _forward(self, X, **Z):
        B, L, D = X.shape
        a = torch.sigmoid(self.gate(X) + 2.0)                # decay in (0, 1), near 0.9 at init
        v = (1 - a) * self.value(X)
        h = X.new_zeros(B, D)
        outs = []
        for t in range(L):                                   # h_t = a_t * h_{t-1} + (1 - a_t) * v_t
            h = a[:, t] * h + v[:, t]
            outs.append(h)
        return X + self.out_proj(torch.stack(outs, 1))
