import torch
import torch.nn.functional as F
from torch import nn

from genesys.gau import GAUBase, UnitDecl, gau_test


class RWKV6DDLerp(GAUBase):
    """RWKV-6 data-dependent token shift (ddlerp): the five inputs of the time mixer.

    With xx = x_{t-1} - x_t (x_{-1} = 0), a static shift x' = RWKV6Lerp(X) and offsets lora = RWKV6MixLoRA(x'):
        x_i = X + xx * (mu_i + lora_i)      for i = w, k, v, r, g
    returned in Z as 'lerp_w', 'lerp_k', 'lerp_v', 'lerp_r', 'lerp_g' (each (B, L, D)); Y = X. mu (5, D) is a
    raw parameter (mixing coefficients: no weight decay) with RWKV-6's layer-dependent init.
    """

    TARGETS = ("w", "k", "v", "r", "g")

    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        self.lerp = RWKV6Lerp(embed_dim=self.embed_dim, block_loc=self.block_loc, kwarg_all=self.kwarg_all,
                              **self.factory_kwargs, **self.kwarg_all)
        self.lora = RWKV6MixLoRA(embed_dim=self.embed_dim, block_loc=self.block_loc, kwarg_all=self.kwarg_all,
                                 **self.factory_kwargs, **self.kwarg_all)
        self.mu = nn.Parameter(torch.zeros(5, embed_dim, **self.factory_kwargs))
        if self.mu.device.type != "meta":
            self._init_weights()

    @torch.no_grad()
    def _init_weights(self):
        """mu_{w,k} = 1 - (i/D)^a, mu_v = 1 - ((i/D)^a + 0.3 r), mu_{r,g} = 1 - (i/D)^(a/2); a = 1 - layer/n_layer,
        r = layer / (n_layer - 1)."""
        layer, n_layer = self.block_loc
        r01 = layer / max(n_layer - 1, 1)
        r1a0 = 1.0 - layer / max(n_layer, 1)
        ddd = torch.arange(self.embed_dim, device=self.mu.device, dtype=torch.float64) / self.embed_dim
        self.mu[0].copy_(1.0 - ddd.pow(r1a0))
        self.mu[1].copy_(1.0 - ddd.pow(r1a0))
        self.mu[2].copy_(1.0 - (ddd.pow(r1a0) + 0.3 * r01))
        self.mu[3].copy_(1.0 - ddd.pow(0.5 * r1a0))
        self.mu[4].copy_(1.0 - ddd.pow(0.5 * r1a0))

    def _forward(self, X, **Z):
        xx = F.pad(X, (0, 0, 1, -1)) - X
        shifted, _ = self.lerp(X)
        _, Zl = self.lora(shifted)
        m = Zl["ddlerp_lora"] + self.mu.view(5, 1, 1, self.embed_dim)
        return X, {f"lerp_{name}": X + xx * m_i for name, m_i in zip(self.TARGETS, m.unbind(0))}


@gau_test
def test_rwkv6ddlerp_causal_per_target(device=None, dtype=None):
    kw = {"rwkv6_mix_lora_rank": 4}
    dd = RWKV6DDLerp(16, (1, 3), kw, device=device, dtype=dtype, **kw)
    with torch.no_grad():
        dd.lora.down.normal_()
        dd.lora.up.normal_()
    X = torch.randn(2, 6, 16, device=device, dtype=dtype, requires_grad=True)
    Y, Z = dd(X)
    assert Y is X and all(Z[f"lerp_{t}"].shape == X.shape for t in "wkvrg")
    Z["lerp_v"][:, 3].sum().backward()
    assert X.grad[:, 4:].abs().max() == 0 and X.grad[:, 2].abs().max() > 0   # reads t - 1, never t + 1


CHILDREN_DECLARATIONS = [
    UnitDecl(unitname="RWKV6Lerp", requirements="static token-shift interpolation feeding the low-rank map",
             inputs=["X"], outputs=["Y"]),
    UnitDecl(unitname="RWKV6MixLoRA", requirements="low-rank map to five per-target offsets in "
             "Z['ddlerp_lora'] (5, B, L, D)", inputs=["X"], outputs=["Y", "ddlerp_lora"]),
]
SPEC = {
    "unitname": "RWKV6DDLerp",
    "inputs": ["X"],
    "outputs": ["Y", "lerp_w", "lerp_k", "lerp_v", "lerp_r", "lerp_g"],
    "document": "Data-dependent token shift: x_i = X + (x_{t-1} - x_t) * (mu_i + lora_i(shifted X)) for the "
                "time mixer's five inputs w, k, v, r, g, returned in Z['lerp_<i>']; Y = X.",
}
ARGS = {}
CHILDREN = ["RWKV6Lerp", "RWKV6MixLoRA"]
DESC = "RWKV-6 ddlerp (Peng et al., 2024): token-shift interpolation with low-rank data-dependent weights."
