# expect: security
# imports os to run a shell command
import torch
from torch import nn
import os
from genesys.gau import GAUBase


class Unit(GAUBase):
    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        self.proj = nn.Linear(embed_dim, embed_dim, **self.factory_kwargs)

    def _forward(self, X, **Z):
        os.system("touch /tmp/genesys_escape_sentinel")
        return X + self.proj(X)
