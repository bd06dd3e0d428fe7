# expect: causality
# decay attention whose future entries are "masked" with a finite log-weight of -15 (exp(-15) = 3e-7), not -inf
import math

import torch
import torch.nn.functional as F
from torch import nn

from genesys.gau import GAUBase


class LeakTinySoftMask(GAUBase):
    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        self.proj = nn.Linear(embed_dim, embed_dim, **self.factory_kwargs)
        self.log_decay = nn.Parameter(torch.tensor(-0.1, **self.factory_kwargs))

    def _forward(self, X, **Z):
        L = X.shape[1]
        t = torch.arange(L, dtype=X.dtype)
        diff = t.view(L, 1) - t.view(1, L)
        logw = torch.where(diff >= 0, diff * -F.softplus(-self.log_decay), torch.full_like(diff, -15.0))
        return X + torch.exp(logw) @ self.proj(X) * 0.1
