"""Numerics helpers shared by the seed tests."""


def rel_err(a, b) -> float:
    """max |a - b| / max |b|, computed in float64 (b is the reference)."""
    a, b = a.double(), b.double()
    return float((a - b).abs().max() / b.abs().max())
