# expect: valid
# linear attention with a decaying matrix state per head, run as a plain per-token Python loop: slow, but correct
import math

import torch
import torch.nn.functional as F
from torch import nn

from genesys.gau import GAUBase


class ValidTokenLoopState(GAUBase):
    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None, n_heads: int = 4,
                 **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        self.n_heads = n_heads
        self.qkv = nn.Linear(embed_dim, 3 * embed_dim, **self.factory_kwargs)
        self.decay = nn.Linear(embed_dim, n_heads, **self.factory_kwargs)
        self.out_proj = nn.Linear(embed_dim, embed_dim, **self.factory_kwargs)

    def _forward(self, X, **Z):
        B, L, D = X.shape
        H = self.n_heads
        q, k, v = self.qkv(X).view(B, L, 3, H, D // H).unbind(2)
        k = F.normalize(k, dim=-1)
        a = torch.sigmoid(self.decay(X) + 3.0)                       # (B, L, H), near 0.95 at init
        S = X.new_zeros(B, H, D // H, D // H)
        outs = []
        for t in range(L):                                           # S_t = a_t S_{t-1} + k_t v_t^T; o_t = q_t S_t
            S = a[:, t, :, None, None] * S + k[:, t, :, :, None] * v[:, t, :, None, :]
            outs.append((q[:, t, :, None, :] @ S).squeeze(-2))
        return X + self.out_proj(torch.stack(outs, 1).reshape(B, L, D))
