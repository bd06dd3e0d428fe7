"""Which parameters take weight decay: decided by role, the way the reference codebases do, not by `ndim >= 2`.

Only real weight matrices decay: the `weight` of every nn.Linear and nn.Embedding. Norm gains, biases, mixing
coefficients (RWKV's token-shift mu, bonus u), decay and step parameters (A_log, dt_bias, decay bases), TTT's
inner model and its LayerNorm, convolution kernels and any other raw nn.Parameter take none. A unit can say
otherwise for one parameter: `p._weight_decay = True` makes it decay, `p._no_weight_decay = True` (the mark
mamba_ssm uses) exempts it. Pure logic, no I/O.
"""
from __future__ import annotations

from typing import Dict, List, Tuple

from torch import nn

_DECAYING_MODULES = (nn.Linear, nn.Embedding)


def decays(module: nn.Module, name: str, param: nn.Parameter) -> bool:
    """Whether `param`, registered as `name` on `module` (its direct owner), takes weight decay."""
    if getattr(param, "_no_weight_decay", False):
        return False
    if getattr(param, "_weight_decay", False):
        return True
    return name == "weight" and isinstance(module, _DECAYING_MODULES)


def split_by_decay(model: nn.Module) -> Tuple[List[str], List[str]]:
    """(names that decay, names that do not), each trainable parameter once (tied weights under their first
    name), in registration order."""
    decay, no_decay, seen = [], [], set()
    for module_name, module in model.named_modules():
        for name, param in module.named_parameters(recurse=False):
            if id(param) in seen or not param.requires_grad:
                continue
            seen.add(id(param))
            full = f"{module_name}.{name}" if module_name else name
            (decay if decays(module, name, param) else no_decay).append(full)
    return decay, no_decay


def param_groups(model: nn.Module, weight_decay: float) -> List[Dict]:
    """AdamW parameter groups: the decaying weights with `weight_decay`, everything else with 0."""
    params = dict(model.named_parameters())
    decay, no_decay = split_by_decay(model)
    return [{"params": [params[n] for n in decay], "weight_decay": weight_decay},
            {"params": [params[n] for n in no_decay], "weight_decay": 0.0}]
