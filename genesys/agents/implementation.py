"""The implementation stage (DESIGN §8): unit by unit. The planner picks the next unimplemented unit (or a library
unit to reuse), the coder writes it, the checker validates the partial tree (unwritten units compose as the
identity), the observer rates it (pass >= 3); an accepted unit is frozen and checkpointed, a unit that fails
`debug_attempts` times rolls the tree back to the last frozen state, and the session stops after `failed_rounds`
such failures or when the cost cap is spent. Ablations: whole tree at once (no unit generation), no checker in the
loop, no planner, no observer, Direct (the whole block in one answer)."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

from genesys.agents import prompts
from genesys.agents.llm.parsing import code_blocks
from genesys.agents.llm.redact import redact
from genesys.agents.llm.types import CostCapReached, LLMError
from genesys.agents.schemas import Observation, Plan, Proposal
from genesys.evolution.designers import Attempt, DesignRequest
from genesys.gau import GAUTree, TreeError
from genesys.gau.design_io import DesignLoadError, parse_unit_source, render_unit_source

CheckFn = Callable[[GAUTree], object]      # genesys.checker.check with the designer's options -> Report


@dataclass
class ImplementationSettings:
    debug_attempts: int = 7
    failed_rounds: int = 3
    observer_pass: int = 3
    unit_generation: bool = True
    symbolic_checker: bool = True
    planner: bool = True
    observer: bool = True
    direct: bool = False


@dataclass
class ImplementationResult:
    tree: Optional[GAUTree]
    attempts: List[Attempt] = field(default_factory=list)
    stop: str = "done"                  # done | failed_rounds | cost_cap | llm_error


def start_tree(request: DesignRequest, proposal: Proposal) -> GAUTree:
    """The tree the coder fills: the first parent with the selected unit (and what only it used) opened up as a
    placeholder, or an empty design whose root is declared (scratch)."""
    if request.mode == "scratch" or not request.parents:
        tree = GAUTree(name=proposal.name, root=proposal.selected_unit or "Block")
    else:
        tree = request.parents[0].tree.copy()
        tree.name = proposal.name
        tree.units.pop(proposal.selected_unit, None)
        tree.prune()
    tree.proposal = f"{proposal.abstract}\n\n{proposal.proposal}"
    tree.traces = []
    return tree


def _errors_text(report) -> str:
    return "\n".join(f"- [{f.category}/{f.check}] {f.message}" + (f" (hint: {f.hint})" if f.hint else "")
                     for f in report.errors) or "the checker found errors"


def _library_unit(library: List[GAUTree], name: str):
    for tree in library:
        if name in tree.units:
            return tree
    return None


def _put(tree: GAUTree, node) -> None:
    if node.name in tree.units:
        tree.replace_unit(node.name, node)
    else:
        tree.add_unit(node)


def _reuse(tree: GAUTree, unit: str, source: GAUTree, name: str) -> GAUTree:
    """The library unit `name` (with its sub-units) in place of the declared `unit`."""
    out = tree.copy()
    node = source.units[name]
    node = type(node).from_dict(node.to_dict())
    node.reuse_from = f"{source.name}/{name}"
    for child in source.descendants(name):
        if child in source.units and child not in out.units:
            out.units[child] = type(node).from_dict(source.units[child].to_dict())
    if name != unit:
        node.name = name
        out.units[name] = node
        out._rename_references(unit, name)
        if out.root == unit:
            out.root = name
    else:
        _put(out, node)
    return out


class Implementer:
    def __init__(self, chat, settings: ImplementationSettings, check: CheckFn, request: DesignRequest,
                 proposal: Proposal, context=None):
        self.chat, self.s, self.check, self.request, self.proposal = chat, settings, check, request, proposal
        self.context = context
        self.attempts: List[Attempt] = []
        self.parent_units: Dict[str, str] = {}
        if request.parents and proposal.selected_unit in request.parents[0].tree.units:
            node = request.parents[0].tree.units[proposal.selected_unit]
            self.parent_units[node.name] = render_unit_source(node)

    # ---- bookkeeping -----------------------------------------------------------------------------------------
    def _trace(self, kind: str, **payload) -> None:
        if self.context is not None:
            self.context.trace(kind, {k: redact(v) if isinstance(v, str) else v for k, v in payload.items()})

    def _attempt(self, operator: str, valid: bool, reason: Optional[str], start: float) -> None:
        self.attempts.append(Attempt(operator=operator, valid=valid, reason=reason, seconds=time.monotonic() - start))

    def _checkpoint(self, tree: GAUTree, failed_rounds: int) -> None:
        if self.context is not None:
            self.context.save_checkpoint({"proposal": self.proposal.model_dump(), "tree": tree.to_dict(),
                                          "failed_rounds": failed_rounds})

    def _resume(self, tree: GAUTree):
        saved = self.context.load_checkpoint() if self.context is not None else None
        if saved and saved.get("proposal", {}).get("name") == self.proposal.name and saved.get("tree"):
            self._trace("resume", unit=None, frozen=GAUTree.from_dict(saved["tree"]).implemented())
            return GAUTree.from_dict(saved["tree"]), int(saved.get("failed_rounds", 0))
        return tree, 0

    # ---- the loop --------------------------------------------------------------------------------------------
    def run(self) -> "ImplementationResult":
        frozen, failed = self._resume(start_tree(self.request, self.proposal))
        try:
            if self.s.direct or not self.s.unit_generation:
                return self._whole(frozen)
            while frozen.unimplemented():
                if failed >= self.s.failed_rounds:
                    return ImplementationResult(None, self.attempts, "failed_rounds")
                accepted = self._one_unit(frozen)
                if accepted is None:
                    failed += 1
                    self._trace("rollback", frozen=frozen.implemented(), failed_rounds=failed)
                else:
                    frozen = accepted
                self._checkpoint(frozen, failed)
        except CostCapReached as exc:
            self._trace("stop", reason=str(exc))
            return ImplementationResult(None, self.attempts, "cost_cap")
        except LLMError as exc:
            self._trace("stop", reason=str(exc))
            return ImplementationResult(None, self.attempts, "llm_error")
        return ImplementationResult(frozen, self.attempts)

    def _plan(self, tree: GAUTree):
        todo = tree.unimplemented()
        library = sorted({u for t in self.request.library for u in t.units} - set(tree.units))
        if not self.s.planner:
            return todo[0], None, ""
        msgs = prompts.messages("planner", self.request.mode, "planner_system", "planner",
                                proposal=tree.proposal, view=tree.view(), todo=todo, library=library[:200])
        plan: Plan = self.chat.ask("planner", msgs, Plan, stage="plan").parsed
        unit = plan.next_unit if plan.next_unit in todo else todo[0]
        return unit, plan.reuse_from if plan.reuse_from in library else None, plan.notes

    def _one_unit(self, frozen: GAUTree) -> Optional[GAUTree]:
        unit, reuse, notes = self._plan(frozen)
        if reuse:
            start = time.monotonic()
            candidate = _reuse(frozen, unit, _library_unit(self.request.library, reuse), reuse)
            report = self.check(candidate) if self.s.symbolic_checker else None
            ok = report is None or report.valid
            self._attempt("reuse", ok, None if ok else _errors_text(report), start)
            self._trace("unit", unit=unit, reuse=reuse, valid=ok)
            if ok:
                return candidate
        errors, previous = "", ""
        decl = frozen.declares.get(unit)
        for attempt in range(self.s.debug_attempts):
            start = time.monotonic()
            msgs = prompts.messages("coder", self.request.mode, "coder_system", "coder", proposal=frozen.proposal,
                                    view=frozen.view(), parent_code=self.parent_units.get(unit, ""), notes=notes,
                                    unit=unit, requirements=decl.requirements if decl else "", errors=errors,
                                    previous=previous)
            try:
                reply = self.chat.ask("coder", msgs, stage=f"code:{unit}")
            except CostCapReached:
                raise
            except LLMError as exc:           # this attempt is lost, not the session
                errors = f"- [llm] {exc}"
                self._attempt("unit", False, errors[:500], start)
                self._trace("unit", unit=unit, attempt=attempt, valid=False, errors=errors)
                continue
            blocks = code_blocks(reply.text)
            previous = blocks[0] if blocks else reply.text
            candidate, errors = self._apply(frozen, unit, previous)
            report = None
            if candidate is not None and self.s.symbolic_checker:
                report = self.check(candidate)
                errors = "" if report.valid else _errors_text(report)
            if candidate is not None and not errors and self.s.observer:
                try:
                    errors = self._observe(unit, candidate, report)
                except CostCapReached:
                    raise
                except LLMError as exc:
                    errors = f"- [llm] the observer could not answer: {exc}"
            ok = candidate is not None and not errors
            self._attempt("unit", ok, None if ok else errors[:500], start)
            self._trace("unit", unit=unit, attempt=attempt, valid=ok, errors=errors[:4000], code=previous[:20000],
                        report=report.to_dict() if report is not None else None)
            if ok:
                return candidate
        return None

    def _apply(self, frozen: GAUTree, unit: str, code: str):
        """The frozen tree with `code` as `unit` (None and the reason when the code cannot be read or placed)."""
        try:
            node = parse_unit_source(code, f"{unit}.py")
        except DesignLoadError as exc:
            return None, f"- [format] {exc}"
        if node.name != unit:
            return None, f"- [format] the class is named {node.name!r}; it must be named {unit!r}"
        candidate = frozen.copy()
        try:
            _put(candidate, node)
        except TreeError as exc:
            return None, f"- [format] {exc}"
        return candidate, ""

    def _observe(self, unit: str, candidate: GAUTree, report) -> str:
        warnings = "; ".join(f.message for f in report.warnings)[:1000] if report is not None else ""
        msgs = prompts.messages("observer", self.request.mode, "observer_system", "observer",
                                proposal=candidate.proposal, unit=unit,
                                code=render_unit_source(candidate.units[unit]), warnings=warnings)
        seen: Observation = self.chat.ask("observer", msgs, Observation, stage=f"observe:{unit}").parsed
        self._trace("observation", unit=unit, rating=seen.rating, review=seen.review)
        if seen.rating >= self.s.observer_pass:
            return ""
        return f"- [observer] rated {seen.rating:g}/5: {seen.review} {seen.suggestions}".strip()

    def _whole(self, frozen: GAUTree) -> "ImplementationResult":
        """No unit generation: every unit in one answer, with the checker's errors fed back (Direct: one shot,
        retried only when the answer cannot be read)."""
        errors = ""
        tries = self.s.debug_attempts
        for attempt in range(tries):
            start = time.monotonic()
            msgs = prompts.messages("coder", "whole" if not self.s.direct else "direct", "coder_system", "whole_tree",
                                    proposal=frozen.proposal, view=frozen.view(with_code=True), root=frozen.root,
                                    todo=frozen.unimplemented(),
                                    errors="" if self.s.direct else errors)
            reply = self.chat.ask("coder", msgs, stage="code:whole")
            candidate, errors = self._apply_all(frozen, code_blocks(reply.text))
            if candidate is not None and candidate.unimplemented():
                errors = f"- [format] units declared but not written: {', '.join(candidate.unimplemented())}"
                candidate = None          # Direct too: a placeholder would pass the final check as the identity
            if candidate is not None and self.s.symbolic_checker and not self.s.direct:
                report = self.check(candidate)
                errors = "" if report.valid else _errors_text(report)
            ok = candidate is not None and not errors
            self._attempt("whole" if not self.s.direct else "direct", ok, None if ok else errors[:500], start)
            self._trace("whole", attempt=attempt, valid=ok, errors=errors[:4000])
            if ok or (self.s.direct and candidate is not None):
                return ImplementationResult(candidate, self.attempts)
        return ImplementationResult(None, self.attempts, "failed_rounds")

    def _apply_all(self, frozen: GAUTree, blocks: List[str]):
        if not blocks:
            return None, "- [format] no ```python block in the answer"
        nodes = []
        for i, code in enumerate(blocks):
            try:
                nodes.append(parse_unit_source(code, f"unit{i}.py"))
            except DesignLoadError as exc:
                return None, f"- [format] {exc}"
        candidate = frozen.copy()
        pending = {n.name: n for n in nodes}
        while pending:       # parents before children: place whatever the tree declares now
            placeable = [n for n in pending.values() if n.name in candidate.reachable()]
            if not placeable:
                return None, f"- [format] units not reachable from the root {candidate.root}: {', '.join(pending)}"
            for node in placeable:
                try:
                    _put(candidate, node)
                except TreeError as exc:
                    return None, f"- [format] {exc}"
                del pending[node.name]
        return candidate, ""
