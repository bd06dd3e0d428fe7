"""SymbolicDesigner: genetic programming over the unit library, no LLM (the offline default designer).

Per try: pick an operator of the request's mode (weights; `random.Random(request.seed)` is the only source of
randomness, so the same request gives the same child), edit, hash; a duplicate (of the parents, of this
request's earlier tries, or of a stored design) is refused before any compute and the operator drawn again (up
to draws_per_try times); then the real checker, in its sandbox; then a size guard. Only a valid child is returned; every try is recorded as an Attempt.
"""
from __future__ import annotations

import functools
import random
import time
from typing import Callable, Dict, Optional

from genesys.evolution.designers.base import Attempt, DesignOutcome, DesignRequest
from genesys.evolution.designers.symbolic.library import UnitLibrary
from genesys.evolution.designers.symbolic.naming import child_name
from genesys.evolution.designers.symbolic.operators import MODES, OPERATORS, Context, NoMove
from genesys.gau import GAUTree, TreeError
from genesys.gau.hashing import structural_hash

DEFAULT_WEIGHTS = {"swap": 3.0, "insert": 1.0, "delete": 1.0, "hparam": 2.0, "graft": 1.0, "scratch": 1.0}


def _plain(value):
    """Hydra hands DictConfig; the checker wants plain containers."""
    try:
        from omegaconf import DictConfig, ListConfig, OmegaConf
        if isinstance(value, (DictConfig, ListConfig)):
            return OmegaConf.to_container(value, resolve=True)
    except ImportError:  # pragma: no cover
        pass
    return value


@functools.lru_cache(maxsize=8)
def reference_params(reference: str, d_model: int, n_block: int, vocab_size: int) -> int:
    """Non-embedding parameters of the checker's reference (a trusted seed) at the check scale, built on meta."""
    import torch
    from genesys.gau import GenesysLM, compose, load_design, load_module
    from genesys.paths import resolve_design
    module = load_module(compose(load_design(resolve_design(reference))), f"reference_{reference}")
    with torch.device("meta"):
        lm = GenesysLM(module.GAB, d_model=d_model, n_block=n_block, vocab_size=vocab_size)
    return lm.num_params(non_embedding=True)


@functools.lru_cache(maxsize=1)
def _seed_names() -> tuple:
    from genesys.paths import seed_names
    return tuple(seed_names())


def _checker_reason(report) -> str:
    errors = report.errors[:2]
    return "checker: " + "; ".join(f"{e.category}: {e.message}"[:240] for e in errors)


def weights_with_memory(weights: Dict[str, float], memory: Optional[dict]) -> Dict[str, float]:
    """`w_mem`: each operator's weight times its smoothed share of valid children so far, (valid + 1) / (attempts
    + 2), over the same for an operator never tried (1/2) — operators that keep failing the checker fade, none
    is ever switched off."""
    if not memory:
        return dict(weights)
    out = {}
    for op, w in weights.items():
        seen = memory.get(op) or {}
        out[op] = w * 2 * (seen.get("valid", 0) + 1) / (seen.get("attempts", 0) + 2)
    return out


class SymbolicDesigner:
    """`design(request) -> DesignOutcome`. Constructible from Hydra (conf/designer/symbolic.yaml).

    ops_weights: operator -> weight within its mode (missing: DEFAULT_WEIGHTS; 0 disables).
    check_options: overrides of conf/check/default.yaml handed to genesys.checker.api.check (nested groups,
        e.g. {"efficiency": {"repeats": 2}}); the checker's verdict is always the full one, no phase skipped.
    max_attempts: when set, replaces request.max_attempts.
    max_param_ratio: a valid child with more non-embedding parameters than this times the checker's reference at
        the check scale is refused (None: no limit).
    check_fn: the checker (tests count its calls); default genesys.checker.api.check.
    draws_per_try: within one try, the operator is drawn again (same generator) while its edit gives a design
        already known (the parents, earlier tries, the store): hashing costs milliseconds, a check seconds.
    """

    def __init__(self, ops_weights: Optional[Dict[str, float]] = None, check_options: Optional[dict] = None,
                 max_attempts: Optional[int] = None, max_param_ratio: Optional[float] = 4.0,
                 check_fn: Optional[Callable] = None, draws_per_try: int = 16):
        self.weights = {**DEFAULT_WEIGHTS, **(_plain(ops_weights) or {})}
        unknown = set(self.weights) - set(OPERATORS)
        if unknown:
            raise ValueError(f"unknown operators {sorted(unknown)}; known: {sorted(OPERATORS)}")
        self.check_options = _plain(check_options) or {}
        if "skip" in self.check_options and self.check_options["skip"]:
            raise ValueError("check_options may not skip checker phases: the checker's verdict must be the real one")
        self.max_attempts = max_attempts
        self.max_param_ratio = max_param_ratio
        self.check_fn = check_fn
        self.draws_per_try = max(1, int(draws_per_try))
        self.library = UnitLibrary()

    # ---- the checker ------------------------------------------------------------------------------------
    def _check(self, tree: GAUTree):
        if self.check_fn is not None:
            return self.check_fn(tree)
        from genesys.checker.api import check
        return check(tree, **self.check_options)

    def _too_big(self, report) -> Optional[str]:
        params = (report.metrics or {}).get("params_non_embedding")
        if self.max_param_ratio is None or params is None:
            return None
        from genesys.checker.config import load_config
        cfg = load_config((), self.check_options)
        ref = reference_params(cfg["reference"], cfg["d_model"], cfg["n_block"], cfg["vocab_size"])
        if params > self.max_param_ratio * ref:
            return (f"size: {params} non-embedding parameters, {params / ref:.1f}x the reference "
                    f"(limit {self.max_param_ratio}x)")
        return None

    # ---- one request ------------------------------------------------------------------------------------
    def design(self, request: DesignRequest) -> DesignOutcome:
        if request.mode not in MODES:
            raise ValueError(f"unknown mode {request.mode!r}; expected one of {sorted(MODES)}")
        rng = random.Random(request.seed)
        weights = weights_with_memory(self.weights, request.memory)
        ops = [op for op in MODES[request.mode] if weights.get(op, 0) > 0]
        parents = [p.tree for p in request.parents]
        parent_names = [p.name for p in request.parents]
        outcome = DesignOutcome(tree=None, mode=request.mode, parents=parent_names)
        if not ops:
            return outcome
        ctx = Context(parents=parents, library=self.library.build(list(request.library) + parents), rng=rng)
        seen = {structural_hash(t) for t in parents}
        for _ in range(self.max_attempts or request.max_attempts):
            op = rng.choices(ops, weights=[weights[o] for o in ops])[0]
            start = time.perf_counter()
            attempt = Attempt(operator=op, valid=False)
            outcome.attempts.append(attempt)
            try:
                # redraw (cheap: no compute) while the edit gives a design already known
                for _ in range(self.draws_per_try):
                    edit = OPERATORS[op](ctx)
                    h = structural_hash(edit.tree)
                    if h not in seen and not request.is_known(h):
                        break
            except NoMove as exc:
                attempt.reason = f"no move: {exc}"
            except (TreeError, ValueError, SyntaxError, KeyError, IndexError) as exc:
                attempt.reason = f"edit failed: {exc}"
            else:
                if h in seen or request.is_known(h):
                    attempt.reason = f"duplicate: {self.draws_per_try} draws gave known designs"
                else:
                    seen.add(h)
                    self._finish(edit, op, h, parent_names, attempt, outcome)
            attempt.seconds = time.perf_counter() - start
            if attempt.valid:
                return outcome
        return outcome

    def _finish(self, edit, op, h, parent_names, attempt, outcome) -> None:
        tree = edit.tree
        tree.name = child_name(parent_names, op, edit.label, h, _seed_names())
        tree.proposal = edit.proposal
        tree.review, tree.rating, tree.traces = "", None, []
        try:
            report = self._check(tree)
        except Exception as exc:  # the checker itself failed: recorded on the try, the request goes on
            attempt.reason = f"checker raised {type(exc).__name__}: {exc}"[:300]
            return
        for name, source in (getattr(report, "fixed_sources", None) or {}).items():
            if name in tree.units:  # keep what the checker checked: its auto-fixed code
                tree.units[name].code = source
        if report.valid and getattr(report, "fixed_sources", None):
            h = structural_hash(tree)
            tree.name = child_name(parent_names, op, edit.label, h, _seed_names())
        if not report.valid:
            attempt.reason = _checker_reason(report)
            return
        too_big = self._too_big(report)
        if too_big:
            attempt.reason = too_big
            return
        attempt.valid = True
        outcome.tree, outcome.name, outcome.operator = tree, tree.name, op
        outcome.struct_hash, outcome.proposal = h, edit.proposal
        outcome.checker_report = report.to_dict()
