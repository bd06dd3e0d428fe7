import torch

from genesys.gau import GAUBase, UnitDecl, gau_test


class Mamba2Block(GAUBase):
    """Mamba2 block of the seed: two pre-norm residual mixers, X = X + Mamba2(RMSNorm X), twice (no MLP)."""

    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None, **kwargs):
        self.factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__(embed_dim, block_loc, kwarg_all)
        self.norm1 = RMSNorm(embed_dim=self.embed_dim, block_loc=self.block_loc, kwarg_all=self.kwarg_all,
                             **self.factory_kwargs, **self.kwarg_all)
        self.mixer1 = Mamba2Mixer(embed_dim=self.embed_dim, block_loc=self.block_loc, kwarg_all=self.kwarg_all,
                                  **self.factory_kwargs, **self.kwarg_all)
        self.norm2 = RMSNorm(embed_dim=self.embed_dim, block_loc=self.block_loc, kwarg_all=self.kwarg_all,
                             **self.factory_kwargs, **self.kwarg_all)
        self.mixer2 = Mamba2Mixer(embed_dim=self.embed_dim, block_loc=self.block_loc, kwarg_all=self.kwarg_all,
                                  **self.factory_kwargs, **self.kwarg_all)

    def _forward(self, X, **Z):
        H, Z = self.norm1(X, **Z)
        H, Z = self.mixer1(H, **Z)
        X = X + H
        H, Z = self.norm2(X, **Z)
        H, Z = self.mixer2(H, **Z)
        return X + H, Z


@gau_test
def test_mamba2block_parameter_count(device=None, dtype=None):
    """Two mixers of about 6 D^2 each: within a few percent of GPT's 12 D^2 per block at D = 768."""
    block = Mamba2Block(768, (0, 1), {}, device="meta")
    n = sum(p.numel() for p in block.parameters())
    assert abs(n / (12 * 768 ** 2) - 1) < 0.05, n


@gau_test
def test_mamba2block_forward_backward(device=None, dtype=None):
    cfg = {"ssd_chunk_size": 8, "mamba2_headdim": 32}
    block = Mamba2Block(64, (0, 2), cfg, device=device, dtype=dtype, **cfg)
    assert block.mixer1.ssd.chunk_size == 8 and block.mixer1.nheads == 4
    X = torch.randn(2, 21, 64, device=device, dtype=dtype, requires_grad=True)
    Y, _ = block(X)
    Y.sum().backward()
    assert Y.shape == X.shape and torch.isfinite(X.grad).all()


CHILDREN_DECLARATIONS = [
    UnitDecl(unitname="RMSNorm", requirements="pre-norm before each mixer", inputs=["X"], outputs=["Y"]),
    UnitDecl(unitname="Mamba2Mixer", requirements="causal token mixer (selective SSM)", inputs=["X"], outputs=["Y"]),
]
SPEC = {
    "unitname": "Mamba2Block",
    "inputs": ["X"],
    "outputs": ["Y"],
    "document": "Two pre-norm residual Mamba2 mixers per block, as in the paper's mamba2 seed.",
}
ARGS = {}
CHILDREN = ["RMSNorm", "Mamba2Mixer"]
DESC = "Mamba2 seed: X + Mamba2(RMSNorm X), twice; pure-PyTorch chunked SSD."
