# expect: valid
# exponential moving average in parallel form: decay matrix masked before exp
import math

import torch
import torch.nn.functional as F
from torch import nn

from genesys.gau import GAUBase


class ValidEmaParallel(GAUBase):
    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        self.proj = nn.Linear(embed_dim, embed_dim, **self.factory_kwargs)
        self.log_decay = nn.Parameter(torch.full((embed_dim,), -2.0, **self.factory_kwargs))

    def _forward(self, X, **Z):
        L = X.shape[1]
        a = -F.softplus(-self.log_decay)                      # log of a decay in (0, 1), per channel
        t = torch.arange(L, dtype=X.dtype)
        diff = (t.view(L, 1) - t.view(1, L)).unsqueeze(-1)    # (L, L, 1)
        expo = torch.where(diff >= 0, diff * a, torch.full_like(diff * a, float("-inf")))
        W = torch.exp(expo)                                    # (L, L, D), zero above the diagonal
        return X + self.proj(torch.einsum("tsd,bsd->btd", W, X) * (1 - a.exp()))
