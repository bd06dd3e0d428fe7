import torch

from genesys.gau import GAUBase, UnitDecl, gau_test


class RetNetBlock(GAUBase):
    """RetNet block: X + MultiScaleRetention(RMSNorm X), then + SwiGLU(RMSNorm .)."""

    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        self.retention_norm = RMSNorm(embed_dim=self.embed_dim, block_loc=self.block_loc, kwarg_all=self.kwarg_all,
                                      **self.factory_kwargs, **self.kwarg_all)
        self.retention = MultiScaleRetention(embed_dim=self.embed_dim, block_loc=self.block_loc,
                                             kwarg_all=self.kwarg_all, **self.factory_kwargs, **self.kwarg_all)
        self.mlp_norm = RMSNorm(embed_dim=self.embed_dim, block_loc=self.block_loc, kwarg_all=self.kwarg_all,
                                **self.factory_kwargs, **self.kwarg_all)
        self.mlp = SwiGLU(embed_dim=self.embed_dim, block_loc=self.block_loc, kwarg_all=self.kwarg_all,
                          **self.factory_kwargs, **self.kwarg_all)

    def _forward(self, X, **Z):
        H, Z = self.retention_norm(X, **Z)
        H, Z = self.retention(H, **Z)
        X = X + H
        H, Z = self.mlp_norm(X, **Z)
        H, Z = self.mlp(H, **Z)
        return X + H, Z


@gau_test
def test_retnetblock_parameter_count(device=None, dtype=None):
    """With the design's MLP width (mlp_ratio 4/3, multiple of 64) a block is about 12 D^2 (retention 8 D^2)."""
    kw = {"mlp_ratio": 1.3333, "mlp_multiple_of": 64}
    block = RetNetBlock(768, (0, 1), kw, device="meta", **kw)
    n = sum(p.numel() for p in block.parameters())
    assert abs(n / (12 * 768 ** 2) - 1) < 0.01, n


@gau_test
def test_retnetblock_forward_backward(device=None, dtype=None):
    cfg = {"retnet_chunk_size": 8}
    block = RetNetBlock(32, (0, 1), cfg, device=device, dtype=dtype, **cfg)
    assert block.retention.retention.chunk_size == 8
    X = torch.randn(2, 19, 32, device=device, dtype=dtype, requires_grad=True)
    Y, _ = block(X)
    Y.float().pow(2).mean().backward()
    assert Y.shape == X.shape and torch.isfinite(Y).all() and torch.isfinite(X.grad).all()


CHILDREN_DECLARATIONS = [
    UnitDecl(unitname='RMSNorm', requirements='pre-norm before each sub-layer', inputs=['X'], outputs=['Y']),
    UnitDecl(unitname='MultiScaleRetention', requirements='causal token mixer (retention)', inputs=['X'],
             outputs=['Y']),
    UnitDecl(unitname='SwiGLU', requirements='channel mixer, about 4 D^2 parameters', inputs=['X'], outputs=['Y']),
]
SPEC = {
    'unitname': 'RetNetBlock',
    'inputs': ['X'],
    'outputs': ['Y'],
    'document': 'Pre-norm RetNet block: multi-scale retention and a SwiGLU MLP, each with a residual.',
}
ARGS = {}
CHILDREN = ['RMSNorm', 'MultiScaleRetention', 'SwiGLU']
DESC = 'RetNet seed: RMSNorm, multi-scale retention (chunkwise training form), SwiGLU.'
