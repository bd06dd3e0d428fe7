# GAU_IMPLEMENTATION_FILE

import torch
import torch.nn as nn

from model_discovery.model.utils.modules import GAUBase,gau_test,UnitDecl # DO NOT CHANGE THIS IMPORT STATEMENT #


class GateLerp(GAUBase):
    """x + delta * sigmoid(mu), mu learned per channel in groups of group_dim."""

    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None,
                 group_dim: int = None, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        self.group_dim = group_dim
        self.mu = nn.Parameter(torch.zeros(embed_dim // group_dim, group_dim, **self.factory_kwargs))

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.embed_dim}, group_dim={self.group_dim})"

    def forward(self, x, delta):  # its own signature, as the original rwkv6 seed's DDLerpLinear
        return x + delta * torch.sigmoid(self.mu.flatten())


@gau_test
def test_gatelerp(device=None, dtype=None):
    lerp = GateLerp(32, (0, 1), {}, device=device, dtype=dtype, group_dim=8)
    x = torch.randn(2, 5, 32, device=device, dtype=dtype)
    assert torch.allclose(lerp(x, torch.zeros_like(x)), x)


CHILDREN_DECLARATIONS = []
SPEC = {
    "unitname": "GateLerp",
    "inputs": ['X'],
    "outputs": ['Y'],
    "document": '''Learned interpolation.''',
}
ARGS = {
    'group_dim': None,
}
CHILDREN = []
DESC = '''
'''
