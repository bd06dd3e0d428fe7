"""Trusted unit templates the symbolic designer writes itself: a residual stage (insert), identities (delete)
and a pre-norm residual block (scratch). Child class names are filled in; the tree renames them later like any
other reference. Each template returns a GAUNode tagged with its role."""
from __future__ import annotations

from genesys.evolution.designers.symbolic.roles import BLOCK, POSITIONAL, role_tag
from genesys.gau import GAUNode, UnitDecl, UnitSpec

_CHILD = ("{cls}(embed_dim=self.embed_dim, block_loc=self.block_loc, kwarg_all=self.kwarg_all, "
          "**self.factory_kwargs, **self.kwarg_all)")
_INIT = '''    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None, **kwargs):
        self.factory_kwargs = {{"device": device, "dtype": dtype}}
        super().__init__(embed_dim, block_loc, kwarg_all)
'''

STAGE = '''from genesys.gau import GAUBase, UnitDecl


class {name}(GAUBase):
    """{first} followed by a pre-norm residual {second}: Y = H + {second}({norm}(H)) with H = {first}(X)."""

''' + _INIT + '''        self.first = ''' + _CHILD.format(cls="{first}") + '''
        self.norm = ''' + _CHILD.format(cls="{norm}") + '''
        self.second = ''' + _CHILD.format(cls="{second}") + '''

    def _forward(self, X, **Z):
        H, Z = self.first(X, **Z)
        G, Z = self.norm(H, **Z)
        G, Z = self.second(G, **Z)
        return H + G, Z
'''

IDENTITY = '''from genesys.gau import GAUBase


class {name}(GAUBase):
    """The identity: stands where a removed {what} was."""

    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None, **kwargs):
        super().__init__(embed_dim, block_loc, kwarg_all)

    def _forward(self, X, **Z):
        return X
'''

NO_POSITION = '''from genesys.gau import GAUBase


class {name}(GAUBase):
    """No positional encoding: passes Z['input_emb'] on unchanged as Z['output_emb'] (NoPE)."""

    def __init__(self, embed_dim: int, block_loc: tuple, kwarg_all: dict, device=None, dtype=None, **kwargs):
        super().__init__(embed_dim, block_loc, kwarg_all)

    def _forward(self, X, input_emb=None, **Z):
        return X, {{"output_emb": input_emb}}
'''

PRENORM_BLOCK = '''from genesys.gau import GAUBase, UnitDecl


class {name}(GAUBase):
    """Pre-norm residual block: X + {seq}({norm}(X)), then + {channel}({norm}(.))."""

''' + _INIT + '''        self.seq_norm = ''' + _CHILD.format(cls="{norm}") + '''
        self.seq = ''' + _CHILD.format(cls="{seq}") + '''
        self.channel_norm = ''' + _CHILD.format(cls="{norm}") + '''
        self.channel = ''' + _CHILD.format(cls="{channel}") + '''

    def _forward(self, X, **Z):
        H, Z = self.seq_norm(X, **Z)
        H, Z = self.seq(H, **Z)
        X = X + H
        H, Z = self.channel_norm(X, **Z)
        H, Z = self.channel(H, **Z)
        return X + H, Z
'''


def _decl(name: str, requirements: str) -> UnitDecl:
    return UnitDecl(unitname=name, requirements=requirements, inputs=["X"], outputs=["Y"])


def stage_unit(name: str, first: str, norm: str, second: str, role: str) -> GAUNode:
    """Insert: `first` keeps its place, a pre-norm residual `second` follows it inside the same slot."""
    doc = f"{first} followed by a pre-norm residual {second}."
    return GAUNode(
        name=name, code=STAGE.format(name=name, first=first, norm=norm, second=second),
        spec=UnitSpec(unitname=name, document=doc), children=[first, norm, second],
        decls=[_decl(first, "the original stage"), _decl(norm, "pre-norm of the added stage"),
               _decl(second, "the added stage")],
        desc=role_tag(role) + "[stage] " + doc)


def identity_unit(name: str, role: str) -> GAUNode:
    """Delete: the identity with the slot's interface (X -> Y, or input_emb -> output_emb for positions)."""
    if role == POSITIONAL:
        code = NO_POSITION.format(name=name)
        spec = UnitSpec(unitname=name, document="No positional encoding (NoPE).",
                        inputs=["input_emb", "*input_pos"], outputs=["output_emb"])
    else:
        code = IDENTITY.format(name=name, what=role.replace("_", " "))
        spec = UnitSpec(unitname=name, document=f"Identity in place of a removed {role.replace('_', ' ')}.")
    return GAUNode(name=name, code=code, spec=spec, desc=role_tag(role) + "[identity] " + spec.document)


def prenorm_block(name: str, norm: str, seq: str, channel: str) -> GAUNode:
    """Scratch: the pre-norm residual skeleton around a norm, a sequence mixer and a channel mixer."""
    doc = f"Pre-norm residual block: {seq} then {channel}, each after {norm}, each with a residual."
    return GAUNode(
        name=name, code=PRENORM_BLOCK.format(name=name, norm=norm, seq=seq, channel=channel),
        spec=UnitSpec(unitname=name, document=doc), children=[norm, seq, channel],
        decls=[_decl(norm, "pre-norm before each sub-layer"), _decl(seq, "causal token mixer"),
               _decl(channel, "channel mixer")],
        desc=role_tag(BLOCK) + doc)
