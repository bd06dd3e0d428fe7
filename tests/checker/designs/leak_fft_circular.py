# expect: causality
# FFT long convolution without zero padding: circular, the end wraps onto the start
import math

import torch
import torch.nn.functional as F
from torch import nn

from genesys.gau import GAUBase


class LeakFftCircular(GAUBase):
    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        self.filt = nn.Parameter(torch.randn(embed_dim, 512, **self.factory_kwargs) * 0.1)

    def _forward(self, X, **Z):
        L = X.shape[1]
        k = self.filt[:, :L]
        y = torch.fft.irfft(torch.fft.rfft(X.transpose(1, 2), n=L) * torch.fft.rfft(k, n=L), n=L)
        return X + y.transpose(1, 2)
