import torch

from genesys.gau import GAUBase, UnitDecl, gau_test


class TTTBlock(GAUBase):
    """TTT-Linear block (Mamba backbone with pre-conv): X + Conv(RMSNorm X), + TTTLinear(RMSNorm .), + SwiGLU(RMSNorm .)."""

    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        self.conv_norm = RMSNorm(embed_dim=self.embed_dim, block_loc=self.block_loc, kwarg_all=self.kwarg_all,
                                 **self.factory_kwargs, **self.kwarg_all)
        self.conv = CausalConv1d(embed_dim=self.embed_dim, block_loc=self.block_loc, kwarg_all=self.kwarg_all,
                                 **self.factory_kwargs, **self.kwarg_all)
        self.ttt_norm = RMSNorm(embed_dim=self.embed_dim, block_loc=self.block_loc, kwarg_all=self.kwarg_all,
                                **self.factory_kwargs, **self.kwarg_all)
        self.ttt = TTTLinear(embed_dim=self.embed_dim, block_loc=self.block_loc, kwarg_all=self.kwarg_all,
                             **self.factory_kwargs, **self.kwarg_all)
        self.mlp_norm = RMSNorm(embed_dim=self.embed_dim, block_loc=self.block_loc, kwarg_all=self.kwarg_all,
                                **self.factory_kwargs, **self.kwarg_all)
        self.mlp = SwiGLU(embed_dim=self.embed_dim, block_loc=self.block_loc, kwarg_all=self.kwarg_all,
                          **self.factory_kwargs, **self.kwarg_all)

    def _forward(self, X, **Z):
        H, Z = self.conv_norm(X, **Z)
        H, Z = self.conv(H, **Z)
        X = X + H
        H, Z = self.ttt_norm(X, **Z)
        H, Z = self.ttt(H, **Z)
        X = X + H
        H, Z = self.mlp_norm(X, **Z)
        H, Z = self.mlp(H, **Z)
        return X + H, Z


@gau_test
def test_tttblock_forward_backward(device=None, dtype=None):
    block = TTTBlock(64, (0, 1), {}, device=device, dtype=dtype, ttt_mini_batch=4)
    X = torch.randn(2, 10, 64, device=device, dtype=dtype, requires_grad=True)
    Y, _ = block(X)
    assert Y.shape == X.shape and torch.isfinite(Y).all()
    Y.sum().backward()
    assert torch.isfinite(X.grad).all()


CHILDREN_DECLARATIONS = [
    UnitDecl(unitname='RMSNorm', requirements='pre-norm before each sub-layer', inputs=['X'], outputs=['Y']),
    UnitDecl(unitname='CausalConv1d', requirements='depthwise causal conv, kernel 4 (pre-conv)', inputs=['X'], outputs=['Y']),
    UnitDecl(unitname='TTTLinear', requirements='causal token mixer with a test-time-trained linear state', inputs=['X'], outputs=['Y']),
    UnitDecl(unitname='SwiGLU', requirements='channel mixer, hidden about 2.5 D', inputs=['X'], outputs=['Y']),
]
SPEC = {
    'unitname': 'TTTBlock',
    'inputs': ['X'],
    'outputs': ['Y'],
    'document': 'Pre-norm TTT-Linear block: causal depthwise conv, TTT-Linear mixer and SwiGLU MLP, each with a residual.',
}
ARGS = {}
CHILDREN = ['RMSNorm', 'CausalConv1d', 'TTTLinear', 'SwiGLU']
DESC = 'TTT-Linear seed (Sun et al., 2024) with the Mamba-style pre-conv backbone: conv, TTT-Linear, SwiGLU.'
