# expect: init
# refuses to build unless embed_dim is a multiple of 48 (the check scale uses 64)
import math

import torch
import torch.nn.functional as F
from torch import nn

from genesys.gau import GAUBase


class InitBadDivisibility(GAUBase):
    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        self.proj = nn.Linear(embed_dim, embed_dim, **self.factory_kwargs)
        self.n_heads = 48
        if embed_dim % self.n_heads:
            raise ValueError(f"embed_dim {embed_dim} must be a multiple of {self.n_heads}")
        self.log_decay = nn.Parameter(torch.linspace(-4.0, -1.0, self.n_heads, **self.factory_kwargs))

    def _forward(self, X, **Z):
        B, L, D = X.shape
        a = -F.softplus(-self.log_decay)                      # log of a decay in (0, 1), one per head
        t = torch.arange(L, dtype=X.dtype)
        diff = (t.view(L, 1) - t.view(1, L)).unsqueeze(0)     # (1, L, L)
        expo = torch.where(diff >= 0, diff * a.view(-1, 1, 1), torch.tensor(float("-inf")))
        W = torch.exp(expo) * (1 - a.exp()).view(-1, 1, 1)     # (heads, L, L), zero above the diagonal
        V = self.proj(X).view(B, L, self.n_heads, D // self.n_heads)
        return X + torch.einsum("hts,bshd->bthd", W, V).reshape(B, L, D)
