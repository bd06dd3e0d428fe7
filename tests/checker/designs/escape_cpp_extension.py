# expect: security
# builds and loads native code
import torch
from torch import nn
from torch.utils.cpp_extension import load_inline
from genesys.gau import GAUBase


class Unit(GAUBase):
    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        self.proj = nn.Linear(embed_dim, embed_dim, **self.factory_kwargs)

    def _forward(self, X, **Z):
        pass
        return X + self.proj(X)
