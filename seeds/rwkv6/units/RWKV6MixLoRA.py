import torch
from torch import nn

from genesys.gau import GAUBase, gau_test


class RWKV6MixLoRA(GAUBase):
    """The low-rank map of RWKV-6's data-dependent token shift: five per-target offsets from one input.

    lora_i = tanh(X A)_i B_i for the targets i = w, k, v, r, g (in that order): A (D, 5 R) is one shared down
    projection whose output is split into five rank-R slices, B (5, R, D) one up projection per target. Y = X;
    the offsets travel in Z['ddlerp_lora'] as one (5, B, L, D) tensor (rank rwkv6_mix_lora_rank, 32 as in the
    paper). A and B are raw parameters starting at U(-1e-4, 1e-4), so the shift starts static; like RWKV-LM
    they take no weight decay.
    """

    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None,
                 rwkv6_mix_lora_rank: int = 32, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        self.rank = rwkv6_mix_lora_rank
        self.down = nn.Parameter(torch.zeros(embed_dim, 5 * self.rank, **self.factory_kwargs))
        self.up = nn.Parameter(torch.zeros(5, self.rank, embed_dim, **self.factory_kwargs))
        if self.down.device.type != "meta":
            with torch.no_grad():
                self.down.uniform_(-1e-4, 1e-4)
                self.up.uniform_(-1e-4, 1e-4)

    def _forward(self, X, **Z):
        B, L, D = X.shape
        m = torch.tanh(X @ self.down).view(B * L, 5, self.rank).transpose(0, 1)     # (5, B L, R)
        return X, {"ddlerp_lora": torch.bmm(m, self.up).view(5, B, L, D)}


@gau_test
def test_rwkv6mixlora_per_target_slices(device=None, dtype=None):
    """Target i uses only its own rank slice of tanh(X A) and its own up projection B_i."""
    lora = RWKV6MixLoRA(8, (0, 1), {}, device=device, dtype=dtype, rwkv6_mix_lora_rank=3)
    with torch.no_grad():
        lora.down.normal_()
        lora.up.normal_()
    X = torch.randn(2, 4, 8, device=device, dtype=dtype)
    Y, Z = lora(X)
    h = torch.tanh(X @ lora.down)
    assert Y is X and Z["ddlerp_lora"].shape == (5, 2, 4, 8)
    for i in range(5):
        assert torch.allclose(Z["ddlerp_lora"][i], h[..., 3 * i:3 * i + 3] @ lora.up[i], atol=1e-5)


CHILDREN_DECLARATIONS = []
SPEC = {
    "unitname": "RWKV6MixLoRA",
    "inputs": ["X"],
    "outputs": ["Y", "ddlerp_lora"],
    "document": "Low-rank tanh map to five per-target token-shift offsets, returned in Z['ddlerp_lora'] "
                "(5, B, L, D); Y = X.",
}
ARGS = {"rwkv6_mix_lora_rank": 32}
CHILDREN = []
DESC = "RWKV-6 ddlerp LoRA: a shared rank-5R tanh down projection with one up projection per target."
