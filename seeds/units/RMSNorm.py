import torch
import torch.nn.functional as F
from torch import nn

from genesys.gau import GAUBase, gau_test


class RMSNorm(GAUBase):
    """Root-mean-square layer norm: X / rms(X) * weight, over the embedding dimension (no mean, no bias)."""

    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None,
                 norm_eps: float = 1e-5, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        self.eps = norm_eps
        self.weight = nn.Parameter(torch.ones(embed_dim, **self.factory_kwargs))

    def _forward(self, X, **Z):
        return F.rms_norm(X, (self.embed_dim,), self.weight, self.eps)


@gau_test
def test_rmsnorm_unit_rms(device=None, dtype=None):
    norm = RMSNorm(16, (0, 1), {}, device=device, dtype=dtype)
    X = torch.randn(2, 5, 16, device=device, dtype=dtype) * 7.0
    Y, _ = norm(X)
    rms = Y.float().pow(2).mean(-1).sqrt()
    assert torch.allclose(rms, torch.ones_like(rms), atol=1e-2), rms


CHILDREN_DECLARATIONS = []
SPEC = {
    "unitname": "RMSNorm",
    "inputs": ["X"],
    "outputs": ["Y"],
    "document": "Root-mean-square normalisation over the embedding dimension with a learned gain.",
}
ARGS = {"norm_eps": 1e-05}
CHILDREN = []
DESC = "RMSNorm (Zhang & Sennrich, 2019): scale-only normalisation used before every mixer in the seeds."
