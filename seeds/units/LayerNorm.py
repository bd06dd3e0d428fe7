import torch
import torch.nn.functional as F
from torch import nn

from genesys.gau import GAUBase, gau_test


class LayerNorm(GAUBase):
    """Layer normalisation over the embedding dimension: (X - mean) / std * weight + bias.

    Shares the hyper-parameter `norm_eps` (default 1e-5) with RMSNorm, so a design may use both.
    """

    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None,
                 norm_eps: float = 1e-5, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        self.eps = norm_eps
        self.weight = nn.Parameter(torch.ones(embed_dim, **self.factory_kwargs))
        self.bias = nn.Parameter(torch.zeros(embed_dim, **self.factory_kwargs))

    def _forward(self, X, **Z):
        return F.layer_norm(X, (self.embed_dim,), self.weight, self.bias, self.eps)


@gau_test
def test_layernorm_zero_mean_unit_variance(device=None, dtype=None):
    norm = LayerNorm(16, (0, 1), {}, device=device, dtype=dtype)
    X = torch.randn(2, 5, 16, device=device, dtype=dtype) * 7.0 + 3.0
    Y, _ = norm(X)
    Y = Y.float()
    assert torch.allclose(Y.mean(-1), torch.zeros(2, 5, device=Y.device), atol=1e-3)
    assert torch.allclose(Y.var(-1, unbiased=False), torch.ones(2, 5, device=Y.device), atol=1e-2)


CHILDREN_DECLARATIONS = []
SPEC = {
    "unitname": "LayerNorm",
    "inputs": ["X"],
    "outputs": ["Y"],
    "document": "Layer normalisation over the embedding dimension with a learned gain and bias.",
}
ARGS = {"norm_eps": 1e-05}
CHILDREN = []
DESC = "LayerNorm (Ba et al., 2016): mean-and-variance normalisation, the norm of the RWKV blocks."
