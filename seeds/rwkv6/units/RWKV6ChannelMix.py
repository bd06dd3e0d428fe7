import torch
from torch import nn

from genesys.gau import GAUBase, UnitDecl, gau_test


class RWKV6ChannelMix(GAUBase):
    """RWKV-6 channel mixing: sigmoid(W_r x_r) * out_proj(relu(W_k x_k)^2), with its own token shift.

    x_k and x_r come from two RWKV6Lerp children (x + (x_{t-1} - x_t) * mu_k, and mu_r). The hidden width is
    rwkv6_cm_ratio * D rounded up to a multiple of rwkv6_cm_multiple_of (3.5 D: 8 D^2 parameters with W_r).
    """

    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None,
                 rwkv6_cm_ratio: float = 3.5, rwkv6_cm_multiple_of: int = 32, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        D = embed_dim
        mult = rwkv6_cm_multiple_of
        self.hidden = mult * ((int(rwkv6_cm_ratio * D) + mult - 1) // mult)
        self.lerp_k = RWKV6Lerp(embed_dim=self.embed_dim, block_loc=self.block_loc, kwarg_all=self.kwarg_all,
                                **self.factory_kwargs, **self.kwarg_all)
        self.lerp_r = RWKV6Lerp(embed_dim=self.embed_dim, block_loc=self.block_loc, kwarg_all=self.kwarg_all,
                                **self.factory_kwargs, **self.kwarg_all)
        self.key = nn.Linear(D, self.hidden, bias=False, **self.factory_kwargs)
        self.receptance = nn.Linear(D, D, bias=False, **self.factory_kwargs)
        self.out_proj = nn.Linear(self.hidden, D, bias=False, **self.factory_kwargs)

    def _forward(self, X, **Z):
        xk, _ = self.lerp_k(X)
        xr, _ = self.lerp_r(X)
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


CHILDREN_DECLARATIONS = [
    UnitDecl(unitname="RWKV6Lerp", requirements="token-shift interpolation for the key and the receptance",
             inputs=["X"], outputs=["Y"]),
]
SPEC = {
    "unitname": "RWKV6ChannelMix",
    "inputs": ["X"],
    "outputs": ["Y"],
    "document": "RWKV-6 channel mixing: token-shift lerp, squared-ReLU key MLP (hidden 3.5 D) gated by a "
                "sigmoid receptance.",
}
ARGS = {"rwkv6_cm_ratio": 3.5, "rwkv6_cm_multiple_of": 32}
CHILDREN = ["RWKV6Lerp"]
DESC = "RWKV-6 (Finch) channel mixer: token-shifted squared-ReLU MLP with a sigmoid receptance gate."
