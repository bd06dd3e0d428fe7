# expect: valid
# FFT long convolution zero-padded to 2L: causal up to float32 round-off
import math

import torch
import torch.nn.functional as F
from torch import nn

from genesys.gau import GAUBase


class ValidFftConv(GAUBase):
    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        self.filt = nn.Parameter(torch.randn(embed_dim, 2048, **self.factory_kwargs) * 0.02)
        self.proj = nn.Linear(embed_dim, embed_dim, **self.factory_kwargs)

    def _forward(self, X, **Z):
        L = X.shape[1]
        k = self.filt[:, :L]
        y = torch.fft.irfft(torch.fft.rfft(X.transpose(1, 2), n=2 * L) * torch.fft.rfft(k, n=2 * L), n=2 * L)[..., :L]
        return X + self.proj(y.transpose(1, 2))
