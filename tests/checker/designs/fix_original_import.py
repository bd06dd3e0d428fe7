# expect: valid fixed
# written for the original Genesys release (model_discovery import line) and forgets to import F
import torch
from torch import nn

from model_discovery.model.utils.modules import GAUBase, gau_test, UnitDecl


class OriginalUnit(GAUBase):
    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        self.proj = nn.Linear(embed_dim, embed_dim, **self.factory_kwargs)

    def _forward(self, X, **Z):
        return X + self.proj(F.gelu(X))


@gau_test
def test_original_unit(device=None, dtype=None):
    unit = OriginalUnit(16, (0, 1), {}, device=device, dtype=dtype)
    assert unit(torch.randn(2, 3, 16))[0].shape == (2, 3, 16)
