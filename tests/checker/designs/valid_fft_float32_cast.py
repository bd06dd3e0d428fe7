# expect: valid
# FFT long convolution that casts to float32 on purpose (as designs do for FFTs under mixed precision)
import math

import torch
import torch.nn.functional as F
from torch import nn

from genesys.gau import GAUBase


class ValidFftFloat32Cast(GAUBase):
    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        self.decay = nn.Parameter(torch.linspace(0.5, 4.0, embed_dim, **self.factory_kwargs))
        self.proj = nn.Linear(embed_dim, embed_dim, **self.factory_kwargs)

    def _forward(self, X, **Z):
        L = X.shape[1]
        t = torch.arange(L, dtype=torch.float32)
        k = torch.exp(-t.view(1, L) / self.decay.float().view(-1, 1).abs().add(0.1))      # (D, L) decaying filter
        u = X.transpose(1, 2).to(torch.float32)
        y = torch.fft.irfft(torch.fft.rfft(u, n=2 * L) * torch.fft.rfft(k, n=2 * L), n=2 * L)[..., :L]
        return X + self.proj(y.transpose(1, 2).to(X.dtype) / L)
