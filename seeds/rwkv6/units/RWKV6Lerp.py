import torch
import torch.nn.functional as F
from torch import nn

from genesys.gau import GAUBase, gau_test


class RWKV6Lerp(GAUBase):
    """RWKV token-shift interpolation with a learned per-channel mix: Y = X + (x_{t-1} - x_t) * mu (x_{-1} = 0).

    The static half of RWKV-6's token shift: the channel mixer takes its key and receptance inputs from two of
    these, and the time mixer's data-dependent interpolation (RWKV6DDLerp) feeds its low-rank map from one. mu
    starts at 1 - (i / D)^(1 - layer / n_layer), so early channels lean on the previous token and deeper blocks
    lean on it less. mu is a raw parameter (a mixing coefficient: no weight decay).
    """

    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        self.mu = nn.Parameter(torch.zeros(embed_dim, **self.factory_kwargs))
        if self.mu.device.type != "meta":
            self._init_weights()

    @torch.no_grad()
    def _init_weights(self):
        layer, n_layer = self.block_loc
        ddd = torch.arange(self.embed_dim, device=self.mu.device, dtype=torch.float64) / self.embed_dim
        self.mu.copy_(1.0 - ddd.pow(1.0 - layer / max(n_layer, 1)))

    def _forward(self, X, **Z):
        return X + (F.pad(X, (0, 0, 1, -1)) - X) * self.mu


@gau_test
def test_rwkv6lerp_mixes_previous_token(device=None, dtype=None):
    lerp = RWKV6Lerp(8, (0, 2), {}, device=device, dtype=dtype)
    with torch.no_grad():
        lerp.mu.copy_(torch.linspace(0, 1, 8))
    X = torch.randn(2, 5, 8, device=device, dtype=dtype)
    Y, _ = lerp(X)
    assert torch.allclose(Y[:, 0], X[:, 0] * (1 - lerp.mu))               # x_{-1} = 0
    assert torch.allclose(Y[:, 1:], X[:, 1:] + (X[:, :-1] - X[:, 1:]) * lerp.mu)


CHILDREN_DECLARATIONS = []
SPEC = {
    "unitname": "RWKV6Lerp",
    "inputs": ["X"],
    "outputs": ["Y"],
    "document": "Token-shift interpolation X + (x_{t-1} - x_t) * mu with a learned per-channel mu.",
}
ARGS = {}
CHILDREN = []
DESC = "RWKV token shift (Peng et al., 2023): a per-channel learned interpolation with the previous token."
