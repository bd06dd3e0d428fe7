"""Shared pieces of the runtime checks: building the check-scale LM, running its blocks, classifying errors."""
from __future__ import annotations

import contextlib
import copy
import time
import traceback
from typing import Iterator, List, Optional, Set, Tuple

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

from genesys.checker.report import CheckResult, Finding
from genesys.gau.lm import GenesysLM


def build_lm(module, cfg: dict, seed: int = 0) -> GenesysLM:
    """The design's LM at the check scale (float32, CPU), deterministically initialised."""
    torch.manual_seed(seed)
    return GenesysLM(module.GAB, d_model=cfg["d_model"], n_block=cfg["n_block"], vocab_size=cfg["vocab_size"])


def run_blocks(lm: GenesysLM, X: torch.Tensor) -> torch.Tensor:
    """The block stack on embeddings X (B, L, D), Z flowing from block to block as in the LM."""
    Z: dict = {}
    for block in lm.blocks:
        X, Z = block(X, **Z)
    return X


def design_frame(exc: BaseException) -> str:
    """The innermost traceback line inside design code, to point the designer at it."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith("<genesys design")
              or f.filename.startswith("<gau_test")]
    if not frames:
        return ""
    f = frames[-1]
    return f" (design line {f.lineno}: {(f.line or '').strip()})"


def classify(exc: BaseException, check: str, default: str = "forward") -> Finding:
    """Turn an exception raised by design code into a finding with the right category."""
    text = f"{type(exc).__name__}: {exc}"
    where = design_frame(exc)
    if isinstance(exc, MemoryError) or "can't allocate memory" in str(exc) or "not enough memory" in str(exc):
        return Finding("memory", check, f"out of memory: {text[:300]}{where}",
                       "The design allocates far more than its size needs; look for O(L^2 D) or larger tensors, "
                       "or tensors sized by a hyper-parameter.")
    if isinstance(exc, PermissionError) and "sandbox" in str(exc):
        return Finding("security", check, f"{text[:300]}{where}", "Design code may only compute on tensors.")
    if isinstance(exc, RecursionError):
        return Finding(default, check, f"infinite recursion: {text[:200]}{where}", "Check for a unit calling itself.")
    if "must have the input's shape" in str(exc) or "GAB output shape" in str(exc) or "X must be (batch" in str(exc):
        return Finding("shape", check, f"{text[:400]}{where}",
                       "Every unit returns Y with exactly the shape of its input X (batch, seq_len, embed_dim).")
    hint = {"init": "The unit must build at any embed_dim divisible by 8 with its default arguments.",
            "gradient": "Avoid in-place changes of tensors needed for backward, .detach(), torch.no_grad() "
                        "and non-differentiable ops on the main path."}.get(default,
                        "The forward must work for any batch size and sequence length, including 1 and odd "
                        "lengths that are not a multiple of any chunk size (pad inside the unit).")
    return Finding(default, check, f"{text[:400]}{where}", hint)


@contextlib.contextmanager
def timed(result: CheckResult) -> Iterator[CheckResult]:
    start = time.perf_counter()
    try:
        yield result
    finally:
        result.seconds += time.perf_counter() - start


def embeddings(batch: int, length: int, d_model: int, seed: int, scale: float = 1.0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(batch, length, d_model, generator=g) * scale


def tokens(batch: int, length: int, vocab: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, vocab, (batch, length), generator=g)


def first_nonfinite(t: torch.Tensor) -> Optional[Tuple[int, ...]]:
    bad = ~torch.isfinite(t)
    if not bad.any():
        return None
    return tuple(int(i) for i in bad.nonzero()[0])


def nonzero_grad_names(lm) -> Set[str]:
    """Names of the parameters whose current gradient is not exactly zero somewhere."""
    return {n for n, p in lm.named_parameters() if p.grad is not None and bool(p.grad.ne(0).any())}


def positions(length: int, boundaries: List[int]) -> List[int]:
    """Probe positions for length L: start, middle, end and both sides of every chunk boundary below L."""
    cand = {0, 1, length // 2, length - 2, length - 1}
    for b in boundaries:
        cand.update({b - 1, b})
    return sorted(p for p in cand if 0 <= p < length - 1)


# ---- float64 repeats of a probe ---------------------------------------------------------------------------
_LOW = {torch.float32: torch.float64, torch.float16: torch.float64, torch.bfloat16: torch.float64,
        torch.complex64: torch.complex128, torch.complex32: torch.complex128}
_HIGH = (torch.float64, torch.complex128)


class Float64Mode(TorchDispatchMode):
    """Runs a computation in float64 even where the design names a lower precision, and notes where it cannot.

    Designs often cast on purpose (`x.float()` around an FFT or a decay, `torch.zeros(..., dtype=torch.float32)`
    buffers); in the float64 repeat of a probe such a cast would put float32 round-off back in and make the
    repeat worthless. So every op asked for a low floating dtype (casts, factories) gets float64 instead, and
    an op that still turns float64 data into a low-precision result (a bit-level view, a copy into a float32
    tensor the module holds outside its buffers) is recorded in `lowered`: the repeat is then not trusted.
    """

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        return False  # we never compile; see PeakMemory

    def __init__(self):
        super().__init__()
        self.lowered: str = ""  # the first op that produced low-precision data from float64 data

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = dict(kwargs or {})
        if kwargs.get("dtype") in _LOW:
            kwargs["dtype"] = _LOW[kwargs["dtype"]]
        out = func(*args, **kwargs)
        if not self.lowered:
            outs = [t for t in tree_leaves(out) if isinstance(t, torch.Tensor)]
            if any(t.dtype in _LOW for t in outs):
                ins = [t for t in tree_leaves((args, kwargs)) if isinstance(t, torch.Tensor)]
                if any(t.dtype in _HIGH for t in ins):
                    self.lowered = str(func)
        return out


@contextlib.contextmanager
def float64_context() -> Iterator[Float64Mode]:
    """Default dtype float64 (plain `torch.ones(n)` follows) and the Float64Mode; both undone on exit."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        with Float64Mode() as mode:
            yield mode
    finally:
        torch.set_default_dtype(previous)


def float64_copy(lm: GenesysLM) -> GenesysLM:
    """A float64 copy of the LM with the same weights (float32 -> float64 is exact); the original is untouched."""
    return copy.deepcopy(lm).double()
