# GAU_IMPLEMENTATION_FILE

import torch
import torch.nn as nn
import torch.nn.functional as F

from model_discovery.model.utils.modules import GAUBase,gau_test,UnitDecl # DO NOT CHANGE THIS IMPORT STATEMENT #


class ShiftMix(GAUBase):
    """Mixes each token with the previous one through a learned interpolation, then projects."""

    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None,
                 group_dim: int = None, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        if group_dim is None:
            raise ValueError("ShiftMix needs group_dim from its parent (kwarg_all['group_dim'])")
        self.lerp = GateLerp(embed_dim=self.embed_dim, block_loc=self.block_loc, kwarg_all=self.kwarg_all,
                             **self.factory_kwargs, **self.kwarg_all)
        self.proj = nn.Linear(embed_dim, embed_dim, **self.factory_kwargs)

    def _forward(self, X, **Z):
        delta = F.pad(X, (0, 0, 1, -1)) - X  # x_{t-1} - x_t, with x_{-1} = 0
        return self.proj(self.lerp(X, delta))  # the leaf's own forward(x, delta)


@gau_test
def test_shiftmix_on_heads(device=None, dtype=None):
    """Fails, as some of the original seeds' own tests do: it calls the unit with a 4-D X."""
    kw = {'group_dim': 8}
    mix = ShiftMix(32, (0, 1), kw, device=device, dtype=dtype, **kw)
    X = torch.randn(2, 9, 4, 8, device=device, dtype=dtype)
    Y, _ = mix(X)
    assert Y.shape == X.shape


CHILDREN_DECLARATIONS = [
    UnitDecl(
        unitname="GateLerp",
        requirements="per-channel interpolation between x and x + delta",
        inputs=['X'],
        outputs=['Y'],
    ),
]
SPEC = {
    "unitname": "ShiftMix",
    "inputs": ['X'],
    "outputs": ['Y'],
    "document": '''Token shift with a learned interpolation.''',
}
ARGS = {
    'group_dim': None,
}
CHILDREN = ['GateLerp']
DESC = '''
'''
