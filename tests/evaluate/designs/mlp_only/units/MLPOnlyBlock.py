import torch
import torch.nn.functional as F
from torch import nn

from genesys.gau import GAUBase, gau_test


class MLPOnlyBlock(GAUBase):
    """X + SwiGLU(RMSNorm X), per token: a block that never looks at other positions."""

    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None,
                 hidden_mult: int = 4, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        self.norm = nn.RMSNorm(embed_dim, eps=1e-5, **self.factory_kwargs)
        self.fc_in = nn.Linear(embed_dim, 2 * hidden_mult * embed_dim, bias=False, **self.factory_kwargs)
        self.out_proj = nn.Linear(hidden_mult * embed_dim, embed_dim, bias=False, **self.factory_kwargs)

    def _forward(self, X, **Z):
        gate, up = self.fc_in(self.norm(X)).chunk(2, dim=-1)
        return X + self.out_proj(F.silu(gate) * up)


@gau_test
def test_mlp_only_is_per_token(device=None, dtype=None):
    block = MLPOnlyBlock(16, (0, 1), {}, device=device, dtype=dtype)
    X = torch.randn(1, 5, 16, device=device, dtype=dtype)
    Y, _ = block(X)
    X2 = X.clone()
    X2[:, 0] += 1
    assert torch.allclose(block(X2)[0][:, 1:], Y[:, 1:])


CHILDREN_DECLARATIONS = []
SPEC = {
    "unitname": "MLPOnlyBlock",
    "inputs": ["X"],
    "outputs": ["Y"],
    "document": "Per-token pre-norm SwiGLU MLP with a residual; no token mixing (a control for recall tasks).",
}
ARGS = {"hidden_mult": 4}
CHILDREN = []
DESC = "Control design without token mixing."
