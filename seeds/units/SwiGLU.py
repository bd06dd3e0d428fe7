import math

import torch
import torch.nn.functional as F
from torch import nn

from genesys.gau import GAUBase, gau_test


class SwiGLU(GAUBase):
    """Gated MLP: out_proj(silu(X W_gate) * (X W_up)); hidden = ceil(mlp_ratio * D / mlp_multiple_of) * multiple.

    With mlp_ratio 8/3 and multiple 128 this is the Llama MLP (about 8 D^2 parameters, 9 D^2 at D = 128).
    """

    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None,
                 mlp_ratio: float = 2.6667, mlp_multiple_of: int = 128, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        hidden = int(mlp_ratio * embed_dim)
        self.hidden = mlp_multiple_of * math.ceil(hidden / mlp_multiple_of)
        self.fc_in = nn.Linear(embed_dim, 2 * self.hidden, bias=False, **self.factory_kwargs)
        self.out_proj = nn.Linear(self.hidden, embed_dim, bias=False, **self.factory_kwargs)

    def _forward(self, X, **Z):
        gate, up = self.fc_in(X).chunk(2, dim=-1)
        return self.out_proj(F.silu(gate) * up)


@gau_test
def test_swiglu_hidden_size(device=None, dtype=None):
    mlp = SwiGLU(128, (0, 1), {}, device=device, dtype=dtype)
    assert mlp.hidden == 384  # int(8 * 128 / 3) = 341, rounded up to a multiple of 128
    mlp = SwiGLU(768, (0, 1), {}, device=device, dtype=dtype)
    assert mlp.hidden == 2048
    X = torch.randn(2, 3, 768, device=device, dtype=dtype)
    assert mlp(X)[0].shape == X.shape


CHILDREN_DECLARATIONS = []
SPEC = {
    "unitname": "SwiGLU",
    "inputs": ["X"],
    "outputs": ["Y"],
    "document": "SwiGLU gated MLP (channel mixing): SiLU-gated up projection, then a down projection.",
}
ARGS = {"mlp_ratio": 2.6667, "mlp_multiple_of": 128}
CHILDREN = []
DESC = "SwiGLU feed-forward (Shazeer, 2020), the channel mixer of Llama-style blocks."
