"""Autotune: fit a design to a scale.

1. Shape: choose (n_block, d_model) so the design's total parameter count lands near the scale's reference.
   Counting happens on the meta device (no memory, no init). The count is linear in depth,
   count(n, d) = E(d) + n * B(d), so each width costs two tiny meta builds (the LM without blocks, one block).
   In order of preference:
   a. the reference width with a depth within `tolerance` (±5 %; the depth nearest the reference depth, like the
      original);
   b. near widths, in bands outward from the reference (±12.5 %, then ±25 %): in the first band that holds a shape
      of two or more blocks within `near_width_tolerance` (±10 %), the shape nearest the count. On the small CPU
      rungs one block is 20-30 % of the model, so a coarse-block design can miss ±5 % at every depth; moving it to
      half the width and two to three times the depth to match the count cost it 0.2-0.3 nats of val loss
      (BENCHMARKS.md "The shape rule"), ten times what a 6-9 % count mismatch is worth;
   c. the other widths, outward from the reference, the first with a depth within `tolerance`;
   d. failing all, the shape nearest the count.
2. Batch: split the global batch into micro-batch x accumulation, with the largest micro-batch that fits:
   on GPU by trying and catching torch.OutOfMemoryError, on CPU by a memory budget.
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from typing import Callable, Dict, Iterable, List, Optional, Tuple

import torch

from genesys.gau import GenesysLM, GAUTree, compose, load_module
from genesys.scales import Scale

WIDTH_FACTORS = (1.0, 0.875, 1.125, 0.75, 1.25, 0.625, 1.5, 0.5, 1.75, 2.0)   # tried outward from the reference
NEAR_BANDS = (0.125, 0.25)      # rule b's bands of widths: within ±12.5 %, then ±25 % of the reference


@dataclass
class ShapeChoice:
    n_block: int
    d_model: int
    params: int                  # total (tied embedding once)
    non_embedding: int
    target: int
    rel_error: float             # params / target - 1
    within_tolerance: bool       # within the tolerance of the rule that chose it (a, c: ±5 %; b: ±10 %)
    rule: str                    # which chose it: reference width (a), near width (b), other width (c), nearest (d)
    seconds: float


@dataclass
class BatchChoice:
    micro_batch: int
    accumulation: int
    global_batch: int            # sequences per optimizer step (micro_batch * accumulation)
    method: str                  # "oom-probe" | "memory-budget"


def _widths(d_ref: int, step: int) -> List[int]:
    out = []
    for f in WIDTH_FACTORS:
        d = max(step, int(round(d_ref * f / step)) * step)
        if d not in out:
            out.append(d)
    return out


def _count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@dataclass(frozen=True)
class _WidthFit:
    """The depths worth trying at one width and their relative count errors."""
    d_model: int
    errors: Dict[int, float]     # depth -> params / target - 1 (the depths around the ideal, real-valued one)

    def nearest(self, min_depth: int = 1) -> Optional[Tuple[float, int, int]]:
        """(|error|, n, d) of the depth nearest the count among depths >= min_depth; None if there is none."""
        depths = [n for n in self.errors if n >= min_depth]
        if not depths:
            return None
        n = min(depths, key=lambda n: (abs(self.errors[n]), n))
        return abs(self.errors[n]), n, self.d_model

    def within(self, tolerance: float, ref_depth: int) -> Optional[Tuple[int, int]]:
        """The in-tolerance depth nearest the reference depth, as (n, d), or None."""
        fits = [n for n, e in self.errors.items() if abs(e) <= tolerance]
        if not fits:
            return None
        return min(fits, key=lambda n: (abs(n - ref_depth), abs(self.errors[n]))), self.d_model


def _fit_width(gab, d_model: int, scale: Scale, vocab_size: int, target: int,
               max_depth: int) -> Optional[_WidthFit]:
    """None if the design rejects the width (e.g. its heads must divide it), its block has no parameters, or the
    count needs more than max_depth blocks."""
    try:
        with torch.device("meta"):
            shell = _count(GenesysLM(gab, d_model, 0, vocab_size))
            block = _count(gab(embed_dim=d_model, block_loc=(0, scale.n_block), device="meta"))
    except Exception:
        return None
    if block == 0:
        return None
    ideal = (target - shell) / block
    depths = {n for n in (math.floor(ideal), math.ceil(ideal)) if 1 <= n <= max_depth}
    depths |= {1} if ideal < 1 else set()
    if not depths:
        return None
    return _WidthFit(d_model, {n: (shell + n * block) / target - 1 for n in depths})


def choose_shape(tree: GAUTree, scale: Scale, vocab_size: int, tolerance: float = 0.05,
                 near_width_tolerance: float = 0.10, max_depth_factor: int = 4) -> ShapeChoice:
    """The (n_block, d_model) for the scale: the rules a, b, c, d of the module docstring, in that order."""
    start = time.perf_counter()
    gab = load_module(compose(tree), tree.name).GAB
    target = scale.target_params(vocab_size)
    widths = _widths(scale.d_model, scale.d_step)
    fitted: Dict[int, Optional[_WidthFit]] = {}

    def fit(d: int) -> Optional[_WidthFit]:
        if d not in fitted:
            fitted[d] = _fit_width(gab, d, scale, vocab_size, target, max_depth_factor * scale.n_block)
        return fitted[d]

    def off(d: int) -> float:                     # how far a width is from the reference, relative
        return abs(d / scale.d_model - 1)

    def pick() -> Tuple[int, int, float, str]:    # (n, d, the tolerance it was accepted under, the rule)
        ref = fit(widths[0])
        if ref is not None and (shape := ref.within(tolerance, scale.n_block)):                       # a
            return (*shape, tolerance, "reference width")
        min_depth = min(2, scale.n_block)        # rule b keeps a stack: a wide single block is not the design's shape
        for band in NEAR_BANDS:                                                                        # b
            near = [x for d in widths if off(d) <= band and (f := fit(d)) and (x := f.nearest(min_depth))]
            if near and min(near)[0] <= near_width_tolerance:
                return (*min(near)[1:], near_width_tolerance, "near width")
        for d in widths:                                                                               # c
            if off(d) > NEAR_BANDS[-1] and (f := fit(d)) and (shape := f.within(tolerance, scale.n_block)):
                return (*shape, tolerance, "other width")
        tried = [f.nearest() for f in fitted.values() if f is not None]                                # d
        if not tried:
            raise ValueError(f"design {tree.name} builds at none of the widths {widths}")
        return (*min(tried)[1:], tolerance, "nearest")

    n, d, accepted, rule = pick()
    with torch.device("meta"):    # the exact count of the chosen shape (blocks may differ by depth)
        lm = GenesysLM(gab, d, n, vocab_size)
    params = lm.num_params()
    err = params / target - 1
    return ShapeChoice(n, d, params, lm.num_params(non_embedding=True), target, err, abs(err) <= accepted, rule,
                       time.perf_counter() - start)


def split_batch(global_batch: int, fits: Callable[[int], bool], max_micro: Optional[int] = None) -> tuple:
    """Largest micro-batch (halving from the global batch) for which fits(m) holds, and the accumulation.

    The global batch is kept exact when the micro-batch divides it, else rounded up to micro * accumulation.
    """
    micro = min(global_batch, max_micro or global_batch)
    while micro > 1 and not fits(micro):
        micro = (micro + 1) // 2
    if micro == 1 and not fits(1):
        raise MemoryError("even a micro-batch of one sequence does not fit")
    accumulation = math.ceil(global_batch / micro)
    return micro, accumulation


def cpu_fits(lm_params: int, n_block: int, d_model: int, vocab_size: int, context: int,
             budget_bytes: float) -> Callable[[int], bool]:
    """Memory model for fp32 CPU training: weights+grads+AdamW (16 B/param) plus activations (~80 B per token
    per block per channel, Korthikanti et al.'s 34 sbh at 2 B, with headroom) plus logits and their grads."""
    def fits(micro: int) -> bool:
        tokens = micro * context
        need = 16 * lm_params + tokens * (80 * n_block * d_model + 12 * vocab_size)
        return need <= budget_bytes
    return fits


def gpu_fits(lm: torch.nn.Module, vocab_size: int, context: int, dtype=torch.bfloat16) -> Callable[[int], bool]:
    """Try a forward+backward at the micro-batch (autocast like training); False on CUDA out-of-memory."""
    device = next(lm.parameters()).device

    def fits(micro: int) -> bool:
        ids = torch.randint(0, vocab_size, (micro, context), device=device)
        try:
            with torch.autocast(device.type, dtype=dtype):
                loss = lm(ids, labels=ids).loss
            loss.backward()
            torch.cuda.synchronize(device)
            return True
        except torch.OutOfMemoryError:
            return False
        finally:
            lm.zero_grad(set_to_none=True)
            del ids
            torch.cuda.empty_cache()
    return fits


def choose_batch(lm: torch.nn.Module, scale: Scale, vocab_size: int, memory_budget_gb: Optional[float] = None,
                 max_micro: Optional[int] = None) -> BatchChoice:
    """Micro-batch and accumulation for the scale's global batch on the device the LM lives on."""
    global_batch = scale.batch_seqs
    if next(lm.parameters()).device.type == "cuda":
        micro, acc = split_batch(global_batch, gpu_fits(lm, vocab_size, scale.context), max_micro)
        return BatchChoice(micro, acc, micro * acc, "oom-probe")
    budget = (memory_budget_gb or 0.5 * _available_gb()) * 2 ** 30
    fits = cpu_fits(sum(p.numel() for p in lm.parameters()), lm.n_block, lm.d_model, vocab_size, scale.context, budget)
    micro, acc = split_batch(global_batch, fits, max_micro)
    return BatchChoice(micro, acc, micro * acc, "memory-budget")


def _available_gb() -> float:
    try:
        return os_available_bytes() / 2 ** 30
    except (ValueError, OSError):
        return 4.0


def os_available_bytes() -> int:
    import os
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def as_dict(*choices: Iterable) -> dict:
    out = {}
    for c in choices:
        out.update(asdict(c))
    return out
