# GAU_IMPLEMENTATION_FILE   # the original release's marker line

import torch
import torch.nn as nn
import torch.nn.functional as F

from model_discovery.model.utils.modules import GAUBase,gau_test,UnitDecl # DO NOT CHANGE THIS IMPORT STATEMENT #

try:
    from shift_kernels_cuda import fused_shift  # an optional fast kernel; the checker never imports it
except ImportError:
    fused_shift = None


class OrigBlock(GAUBase):
    """Pre-norm block: X + ShiftMix(LN X), then X + MLP(LN X)."""

    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None,
                 n_groups: int = 4, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        kwarg_all['group_dim'] = embed_dim // n_groups  # read by the children through kwarg_all
        self.norm1 = nn.LayerNorm(embed_dim, **self.factory_kwargs)
        self.mix = ShiftMix(embed_dim=self.embed_dim, block_loc=self.block_loc, kwarg_all=self.kwarg_all,
                            **self.factory_kwargs, **self.kwarg_all)
        self.norm2 = nn.LayerNorm(embed_dim, **self.factory_kwargs)
        self.fc1 = nn.Linear(embed_dim, 2 * embed_dim, **self.factory_kwargs)
        self.fc2 = nn.Linear(2 * embed_dim, embed_dim, **self.factory_kwargs)

    def _forward(self, X, **Z):
        Y, Z = self.mix(self.norm1(X), **Z)
        X = X + Y
        return X + self.fc2(F.gelu(self.fc1(self.norm2(X)))), Z


@gau_test
def test_origblock(device=None, dtype=None):
    block = OrigBlock(32, (0, 1), {}, device=device, dtype=dtype)
    X = torch.randn(2, 9, 32, device=device, dtype=dtype)
    Y, _ = block(X)
    assert Y.shape == X.shape


CHILDREN_DECLARATIONS = [
    UnitDecl(
        unitname="ShiftMix",
        requirements="causal token mixing",
        inputs=['X'],
        outputs=['Y'],
    ),
]
SPEC = {
    "unitname": "OrigBlock",
    "inputs": ['X'],
    "outputs": ['Y'],
    "document": '''Pre-norm block with token-shift mixing and a GELU MLP.''',
}
ARGS = {
    'n_groups': 4,
}
CHILDREN = ['ShiftMix']
DESC = '''
'''
