"""Small unit sources for tree / compose tests."""
from genesys.gau import GAUNode, UnitDecl, UnitSpec

LEAF = '''import torch
from torch import nn
from genesys.gau import GAUBase


class {name}(GAUBase):
    """Leaf {name}: a per-token linear map."""

    def __init__(self, embed_dim, block_loc, kwarg_all, device=None, dtype=None, **kwargs):
        self.factory_kwargs = {{"device": device, "dtype": dtype}}
        super().__init__(embed_dim, block_loc, kwarg_all)
        self.proj = nn.Linear(embed_dim, embed_dim, **self.factory_kwargs)

    def _forward(self, X, **Z):
        return self.proj(X)
'''

PARENT = '''from genesys.gau import GAUBase


class {name}(GAUBase):
    """Parent {name}: residual sum of its children."""

    def __init__(self, embed_dim, block_loc, kwarg_all, device=None, dtype=None, **kwargs):
        self.factory_kwargs = {{"device": device, "dtype": dtype}}
        super().__init__(embed_dim, block_loc, kwarg_all)
{inits}

    def _forward(self, X, **Z):
        Y = X
{calls}
        return Y, Z
'''


def parent_code(name, children):
    inits = "\n".join(
        f"        self.c{i} = {c}(embed_dim=self.embed_dim, block_loc=self.block_loc, kwarg_all=self.kwarg_all, "
        f"**self.factory_kwargs, **self.kwarg_all)"
        for i, c in enumerate(children)
    ) or "        pass"
    calls = "\n".join(f"        H, Z = self.c{i}(Y, **Z)\n        Y = Y + H" for i, _ in enumerate(children)) or "        pass"
    return PARENT.format(name=name, inits=inits, calls=calls)


def make_node(name, children=(), args=None):
    children = list(children)
    code = parent_code(name, children) if children else LEAF.format(name=name)
    return GAUNode(name=name, code=code, spec=UnitSpec(unitname=name, document=f"unit {name}"),
                   args=dict(args or {}), children=children,
                   decls=[UnitDecl(unitname=c, requirements=f"child {c}") for c in children])
