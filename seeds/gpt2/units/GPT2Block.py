import torch

from genesys.gau import GAUBase, UnitDecl, gau_test


class GPT2Block(GAUBase):
    """Llama-style transformer block: X + MHA(RMSNorm X), then + SwiGLU(RMSNorm .)."""

    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        self.attn_norm = RMSNorm(embed_dim=self.embed_dim, block_loc=self.block_loc, kwarg_all=self.kwarg_all,
                                 **self.factory_kwargs, **self.kwarg_all)
        self.attn = MHA(embed_dim=self.embed_dim, block_loc=self.block_loc, kwarg_all=self.kwarg_all,
                        **self.factory_kwargs, **self.kwarg_all)
        self.mlp_norm = RMSNorm(embed_dim=self.embed_dim, block_loc=self.block_loc, kwarg_all=self.kwarg_all,
                                **self.factory_kwargs, **self.kwarg_all)
        self.mlp = SwiGLU(embed_dim=self.embed_dim, block_loc=self.block_loc, kwarg_all=self.kwarg_all,
                          **self.factory_kwargs, **self.kwarg_all)

    def _forward(self, X, **Z):
        H, Z = self.attn_norm(X, **Z)
        H, Z = self.attn(H, **Z)
        X = X + H
        H, Z = self.mlp_norm(X, **Z)
        H, Z = self.mlp(H, **Z)
        return X + H, Z


@gau_test
def test_gpt2block_parameter_count(device=None, dtype=None):
    """About 12 D^2 per block at D = 768 (attention 4 D^2, SwiGLU 8 D^2), which the paper's scales assume."""
    block = GPT2Block(768, (0, 1), {}, device="meta")
    n = sum(p.numel() for p in block.parameters())
    assert abs(n / (12 * 768 ** 2) - 1) < 0.01, n


CHILDREN_DECLARATIONS = [
    UnitDecl(unitname='RMSNorm', requirements='pre-norm before each sub-layer', inputs=['X'], outputs=['Y']),
    UnitDecl(unitname='MHA', requirements='causal token mixer', inputs=['X'], outputs=['Y']),
    UnitDecl(unitname='SwiGLU', requirements='channel mixer', inputs=['X'], outputs=['Y']),
]
SPEC = {
    'unitname': 'GPT2Block',
    'inputs': ['X'],
    'outputs': ['Y'],
    'document': 'Pre-norm transformer block: RoPE multi-head attention and a SwiGLU MLP, each with a residual.',
}
ARGS = {}
CHILDREN = ['RMSNorm', 'MHA', 'SwiGLU']
DESC = 'GPT-2 seed in the Llama style used by the paper: RMSNorm, RoPE attention, SwiGLU.'
