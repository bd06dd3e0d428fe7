# expect: causality
# every sample gets sample 0's branch output (indexing a (B, L, D) tensor with [0] where a tuple was meant, as
# the original release's ttt seed does with its Conv unit): sample 0 is the source, the others the victims
import torch
from torch import nn

from genesys.gau import GAUBase


class LeakBatchFirstSample(GAUBase):
    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        self.proj = nn.Linear(embed_dim, embed_dim, **self.factory_kwargs)

    def _forward(self, X, **Z):
        branch = self.proj(X)
        return X + branch[0]
