"""Hyper-parameter moves within sane ranges: a table for the seeds' ARGS, a generic rule for the rest.

Kinds: "pow2" (x2 or /2: head counts, state sizes, ranks, so widths stay divisible), "int" (x2, /2, +1 or -1),
"float" (times U[0.5, 2] drawn in log space), "bool" (flipped). Values are clipped to the range and keep their
type. Pure compute knobs (chunk sizes, checkpointing, rounding multiples) and coupled ranges are frozen: changing
them would not change what the design computes, or could invert a min/max pair; so are norm epsilons, whose
changes within range make near-copies that would spend verification budget for nothing.
"""
from __future__ import annotations

import math
import random
import re
from typing import Dict, Optional, Tuple

# key: (kind, low, high)
RANGES: Dict[str, Tuple[str, float, float]] = {
    "n_heads": ("pow2", 1, 16),
    "rope_theta": ("float", 1e3, 1e6),
    "mlp_ratio": ("float", 1.0, 6.0),
    "mamba2_expand": ("pow2", 1, 4),
    "mamba2_d_state": ("pow2", 16, 128),
    "mamba2_d_conv": ("int", 2, 8),
    "mamba2_headdim": ("pow2", 16, 128),
    "retnet_n_heads": ("pow2", 1, 16),
    "rwkv6_n_heads": ("pow2", 1, 16),
    "rwkv6_expand_k": ("float", 0.25, 1.0),
    "rwkv6_expand_v": ("float", 0.5, 2.0),
    "rwkv6_mix_lora_rank": ("pow2", 8, 64),
    "rwkv6_decay_lora_rank": ("pow2", 16, 128),
    "rwkv6_cm_ratio": ("float", 1.0, 6.0),
    "ttt_mini_batch": ("pow2", 4, 64),
    "ttt_base_lr": ("float", 0.1, 10.0),
    "causal_conv_kernel": ("int", 2, 8),
    "causal_conv_bias": ("bool", 0, 1),
}
FROZEN = re.compile(r"chunk|checkpoint|multiple_of|_mode$|dt_min|dt_max|dt_init|A_init|eps")


def rule_for(key: str, value) -> Optional[Tuple[str, float, float]]:
    """The (kind, low, high) for a key, or None when it is frozen or of a type we do not move."""
    if FROZEN.search(key) or value is None or isinstance(value, str):
        return None
    if key in RANGES:
        return RANGES[key]
    if isinstance(value, bool):
        return ("bool", 0, 1)
    if isinstance(value, int):
        kind = "pow2" if re.search(r"heads|head_dim|headdim|rank|state|expand", key) and value > 0 \
            and value & (value - 1) == 0 else "int"
        return (kind, 1, max(4 * value, 8))
    if isinstance(value, float):
        return ("float", value / 4, value * 4) if value > 0 else None
    return None


def _sig(x: float) -> float:
    return float(f"{x:.4g}")


def mutate_value(key: str, value, rng: random.Random):
    """A new value for `key` different from `value`, or None when no move is possible."""
    rule = rule_for(key, value)
    if rule is None:
        return None
    kind, low, high = rule
    if kind == "bool":
        return not value
    if kind in ("pow2", "int"):
        moves = [value * 2, value // 2] + ([value + 1, value - 1] if kind == "int" else [])
        options = [int(v) for v in moves if low <= v <= high and v != value]
        return rng.choice(options) if options else None
    for _ in range(8):
        new = _sig(min(high, max(low, value * math.exp(rng.uniform(math.log(0.5), math.log(2.0))))))
        if new != value:
            return new
    return None
