import torch

from genesys.gau import GAUBase, UnitDecl, gau_test


class RWKV6Block(GAUBase):
    """RWKV-6 (Finch) block: X + TimeMix(LayerNorm X), then + ChannelMix(LayerNorm .)."""

    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        self.time_norm = LayerNorm(embed_dim=self.embed_dim, block_loc=self.block_loc, kwarg_all=self.kwarg_all,
                                   **self.factory_kwargs, **self.kwarg_all)
        self.time_mix = RWKV6TimeMix(embed_dim=self.embed_dim, block_loc=self.block_loc, kwarg_all=self.kwarg_all,
                                     **self.factory_kwargs, **self.kwarg_all)
        self.channel_norm = LayerNorm(embed_dim=self.embed_dim, block_loc=self.block_loc, kwarg_all=self.kwarg_all,
                                      **self.factory_kwargs, **self.kwarg_all)
        self.channel_mix = RWKV6ChannelMix(embed_dim=self.embed_dim, block_loc=self.block_loc,
                                           kwarg_all=self.kwarg_all, **self.factory_kwargs, **self.kwarg_all)

    def _forward(self, X, **Z):
        H, Z = self.time_norm(X, **Z)
        H, Z = self.time_mix(H, **Z)
        X = X + H
        H, Z = self.channel_norm(X, **Z)
        H, Z = self.channel_mix(H, **Z)
        return X + H, Z


@gau_test
def test_rwkv6block_parameter_count(device=None, dtype=None):
    """About 12 D^2 per block at D = 768 (time mix 4 D^2 + low ranks, channel mix 8 D^2)."""
    block = RWKV6Block(768, (0, 1), {}, device="meta")
    n = sum(p.numel() for p in block.parameters())
    assert abs(n / (12 * 768 ** 2) - 1) < 0.06, n


@gau_test
def test_rwkv6block_causal(device=None, dtype=None):
    kw = {"rwkv6_chunk_size": 4}
    block = RWKV6Block(32, (0, 2), kw, device=device, dtype=dtype, **kw)
    X = torch.randn(1, 10, 32, device=device, dtype=dtype)
    Y, _ = block(X)
    X2 = X.clone()
    X2[:, 6:] += torch.randn_like(X2[:, 6:])
    Y2, _ = block(X2)
    assert torch.allclose(Y[:, :6], Y2[:, :6], atol=1e-5) and not torch.allclose(Y[:, 6:], Y2[:, 6:])


CHILDREN_DECLARATIONS = [
    UnitDecl(unitname='LayerNorm', requirements='pre-norm before each sub-layer', inputs=['X'], outputs=['Y']),
    UnitDecl(unitname='RWKV6TimeMix', requirements='causal token mixer with a recurrent state', inputs=['X'],
             outputs=['Y']),
    UnitDecl(unitname='RWKV6ChannelMix', requirements='channel mixer with token shift', inputs=['X'], outputs=['Y']),
]
SPEC = {
    'unitname': 'RWKV6Block',
    'inputs': ['X'],
    'outputs': ['Y'],
    'document': 'Pre-LayerNorm RWKV-6 block: time mixing (data-dependent decay WKV) and channel mixing, each with '
                'a residual.',
}
ARGS = {}
CHILDREN = ['LayerNorm', 'RWKV6TimeMix', 'RWKV6ChannelMix']
DESC = 'RWKV-6 (Finch) seed: LayerNorm, data-dependent-decay time mixing, token-shifted squared-ReLU channel mixing.'
