"""Turn composed design source into live modules. For trusted designs (the seeds, checked designs inside a
sandbox or a training job): executing a module runs its code, so untrusted code goes through genesys.check."""
from __future__ import annotations

import hashlib
import linecache
import sys
import types
from typing import Optional

import torch

from genesys.gau.compose import compose
from genesys.gau.tree import GAUTree

_MODULES: dict = {}


def load_module(source: str, name: str = "design") -> types.ModuleType:
    """Execute composed source as a real module (registered, with source lines for tracebacks); cached by hash."""
    digest = hashlib.sha1(source.encode()).hexdigest()[:12]
    if digest in _MODULES:
        return _MODULES[digest]
    mod_name = f"genesys_design_{''.join(c if c.isalnum() else '_' for c in name)}_{digest}"
    filename = f"<genesys design {name} {digest}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
    module = types.ModuleType(mod_name)
    module.__file__ = filename
    sys.modules[mod_name] = module
    try:
        exec(compile(source, filename, "exec"), module.__dict__)
    except BaseException:
        del sys.modules[mod_name]
        raise
    _MODULES[digest] = module
    return module


def build_block(tree: GAUTree, embed_dim: int, block_loc: tuple = (0, 1), device=None,
                dtype: Optional[torch.dtype] = None, **overrides) -> torch.nn.Module:
    """One block of the design: `Y, Z = block(X)`. `overrides` replace the units' default hyper-parameters."""
    module = load_module(compose(tree), tree.name)
    with torch.device(device or "cpu"):
        return module.GAB(embed_dim=embed_dim, block_loc=block_loc, device=device, dtype=dtype, **overrides)
