# expect: format
# instantiates a unit it does not declare
import torch
from torch import nn

from genesys.gau import GAUBase


class Unit(GAUBase):
    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        self.proj = nn.Linear(embed_dim, embed_dim, **self.factory_kwargs)
        self.mixer = Mixer(embed_dim=self.embed_dim, block_loc=self.block_loc, kwarg_all=self.kwarg_all,
                           **self.factory_kwargs, **self.kwarg_all)

    def _forward(self, X, **Z):
        pass
        return X + self.proj(X)


CHILDREN_DECLARATIONS = []
