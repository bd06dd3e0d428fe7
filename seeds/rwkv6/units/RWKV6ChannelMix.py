import torch
import torch.nn.functional as F
from torch import nn

from genesys.gau import GAUBase, gau_test


class RWKV6ChannelMix(GAUBase):
    """RWKV-6 channel mixing: sigmoid(W_r x_r) * out_proj(relu(W_k x_k)^2), with its own token shift.

    x_k = x + xx * mu_k, x_r = x + xx * mu_r, xx_t = x_{t-1} - x_t (x_{-1} = 0). The hidden width is
    rwkv6_cm_ratio * D rounded up to a multiple of rwkv6_cm_multiple_of (3.5 D: 8 D^2 parameters with W_r).
    """

    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None,
                 rwkv6_cm_ratio: float = 3.5, rwkv6_cm_multiple_of: int = 32, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        D = embed_dim
        mult = rwkv6_cm_multiple_of
        self.hidden = mult * ((int(rwkv6_cm_ratio * D) + mult - 1) // mult)
        self.maa_k = nn.Parameter(torch.zeros(D, **self.factory_kwargs))
        self.maa_r = nn.Parameter(torch.zeros(D, **self.factory_kwargs))
        self.key = nn.Linear(D, self.hidden, bias=False, **self.factory_kwargs)
        self.receptance = nn.Linear(D, D, bias=False, **self.factory_kwargs)
        self.out_proj = nn.Linear(self.hidden, D, bias=False, **self.factory_kwargs)
        if self.maa_k.device.type != "meta":
            self._init_weights()

    @torch.no_grad()
    def _init_weights(self):
        """RWKV-6 layer-dependent lerp init: mu = 1 - (i / D)^(1 - layer / n_layer)."""
        layer, n_layer = self.block_loc
        r1a0 = 1.0 - layer / max(n_layer, 1)
        ddd = torch.arange(self.embed_dim, device=self.maa_k.device, dtype=torch.float64) / self.embed_dim
        self.maa_k.copy_(1.0 - ddd.pow(r1a0))
        self.maa_r.copy_(1.0 - ddd.pow(r1a0))

    def _forward(self, X, **Z):
        xx = F.pad(X, (0, 0, 1, -1)) - X
        xk = X + xx * self.maa_k
        xr = X + xx * self.maa_r
        kv = self.out_proj(torch.relu(self.key(xk)).square())
        return torch.sigmoid(self.receptance(xr)) * kv


@gau_test
def test_rwkv6_channelmix_shift_and_causality(device=None, dtype=None):
    cm = RWKV6ChannelMix(32, (0, 2), {}, device=device, dtype=dtype)
    assert cm.hidden == 128   # 3.5 * 32 = 112, rounded up to a multiple of 32
    X = torch.randn(2, 7, 32, device=device, dtype=dtype, requires_grad=True)
    Y, _ = cm(X)
    Y[:, 3].sum().backward()
    assert X.grad[:, 4:].abs().max() == 0
    assert X.grad[:, 2].abs().max() > 0 and X.grad[:, 3].abs().max() > 0   # its own token shift sees t-1


CHILDREN_DECLARATIONS = []
SPEC = {
    "unitname": "RWKV6ChannelMix",
    "inputs": ["X"],
    "outputs": ["Y"],
    "document": "RWKV-6 channel mixing: token-shift lerp, squared-ReLU key MLP (hidden 3.5 D) gated by a "
                "sigmoid receptance.",
}
ARGS = {"rwkv6_cm_ratio": 3.5, "rwkv6_cm_multiple_of": 32}
CHILDREN = []
DESC = "RWKV-6 (Finch) channel mixer: token-shifted squared-ReLU MLP with a sigmoid receptance gate."
