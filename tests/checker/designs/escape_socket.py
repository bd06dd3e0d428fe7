# expect: security
# opens a network connection
import torch
from torch import nn

from genesys.gau import GAUBase


class Unit(GAUBase):
    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        self.proj = nn.Linear(embed_dim, embed_dim, **self.factory_kwargs)

    def _forward(self, X, **Z):
        import socket
        socket.create_connection(("127.0.0.1", 1)).send(b"x")
        return X + self.proj(X)
