# expect: valid
# the unit's own @gau_test fails: a warning unless check.unit_tests_required (then a forward error)
import torch
from torch import nn

from genesys.gau import GAUBase, gau_test


class TestedUnit(GAUBase):
    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        self.proj = nn.Linear(embed_dim, embed_dim, **self.factory_kwargs)

    def _forward(self, X, **Z):
        return X + self.proj(X)


@gau_test
def test_output_is_zero(device=None, dtype=None):
    unit = TestedUnit(16, (0, 1), {}, device=device, dtype=dtype)
    Y, _ = unit(torch.randn(2, 3, 16))
    assert torch.all(Y == 0), "expected zeros"
