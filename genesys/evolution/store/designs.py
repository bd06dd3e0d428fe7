"""Designs: the evolution tree's nodes, unique by name and by structural hash."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from genesys.evolution.store.models import Design
from genesys.evolution.store.rows import DesignRow, DuplicateDesign, design_row
from genesys.evolution.store.types import utcnow

VALID = "valid"
FAILED = "failed"


class DesignsMixin:
    def add_design(self, name: str, tree: dict[str, Any], code: str, struct_hash: str, parents: list[str],
                   mode: str, *, operator: str | None = None, proposal: str | None = None,
                   review: str | None = None, checker_report: dict[str, Any] | None = None, is_seed: bool = False,
                   session_id: int | None = None, meta: dict[str, Any] | None = None) -> DesignRow:
        """Store a new design with status "valid". Raises DuplicateDesign when its structural hash or its name is
        already stored, ValueError when a parent is not in the store."""
        try:
            with self._write() as s:
                _refuse_duplicate(s, name, struct_hash)
                known = set(s.scalars(select(Design.name).where(Design.name.in_(list(parents)))))
                missing = [p for p in parents if p not in known]
                if missing:
                    raise ValueError(f"design {name!r}: parents not in the store: {missing}")
                design = Design(
                    name=name, struct_hash=struct_hash, tree=tree, code=code, parents=list(parents), mode=mode,
                    operator=operator, proposal=proposal, review=review, checker_report=checker_report,
                    status=VALID, status_reason=None, is_seed=is_seed, session_id=session_id, meta=meta,
                    created_at=utcnow())
                s.add(design)
                s.flush()
                return design_row(design)
        except IntegrityError:  # another process stored the same name or hash between our check and insert
            with self._read() as s:
                _refuse_duplicate(s, name, struct_hash)
            raise

    def name_for_hash(self, struct_hash: str) -> str | None:
        with self._read() as s:
            return s.scalar(select(Design.name).where(Design.struct_hash == struct_hash))

    def design(self, name: str) -> DesignRow | None:
        with self._read() as s:
            design = s.scalar(select(Design).where(Design.name == name))
            return design_row(design) if design is not None else None

    def designs(self, status: str | None = None) -> list[DesignRow]:
        """All designs (or those with ``status``) in insertion order."""
        query = select(Design).order_by(Design.id)
        if status is not None:
            query = query.where(Design.status == status)
        with self._read() as s:
            return [design_row(d) for d in s.scalars(query)]

    def set_design_status(self, name: str, status: str, reason: str | None = None) -> None:
        with self._write() as s:
            design = s.scalar(select(Design).where(Design.name == name).with_for_update())
            if design is None:
                raise KeyError(f"no design named {name!r} in the store")
            design.status = status
            design.status_reason = reason


def _refuse_duplicate(s: Session, name: str, struct_hash: str) -> None:
    same_hash = s.scalar(select(Design.name).where(Design.struct_hash == struct_hash))
    if same_hash is not None:
        raise DuplicateDesign(f"design {name!r} duplicates stored design {same_hash!r} (structural hash "
                              f"{struct_hash})", existing=same_hash, field="struct_hash")
    if s.scalar(select(Design.id).where(Design.name == name)) is not None:
        raise DuplicateDesign(f"a design named {name!r} is already stored (with another structure)",
                              existing=name, field="name")
