"""Find what an export needs: the design (a run's stored design, or a folder) and its best verification checkpoint."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

from genesys.gau import GAUTree, load_design
from genesys.paths import resolve_design
from genesys.report.export import ExportError, Source, source_from_record


def _largest(verifications, rung: Optional[str]):
    """The done verification with a checkpoint at the largest rung (most parameters), seed 0 first."""
    usable = [v for v in verifications if v.record and Path((v.record.get("paths") or {}).get("checkpoint") or "")
              .is_file() and (rung is None or v.rung == rung)]
    if not usable:
        return None
    return max(usable, key=lambda v: ((v.record.get("params") or {}).get("total") or 0, v.seed == 0))


def from_run(design: str, run: str, rung: Optional[str] = None) -> Source:
    from genesys.evolution.store import Store
    store = Store.open(run)
    try:
        row = store.design(design)
        if row is None:
            raise ExportError(f"no design named {design!r} in {run}")
        pick = _largest(store.verifications(design=design, status="done"), rung)
    finally:
        store.close()
    if pick is None:
        raise ExportError(f"{design} has no finished LM verification with a checkpoint"
                          + (f" at {rung}" if rung else "") + " in " + str(run))
    return source_from_record(GAUTree.from_dict(row.tree), pick.record)


def from_checkpoint(design: str, checkpoint: str) -> Source:
    """A design folder and a verification's checkpoint (its record.json sits in the run folder above it)."""
    ckpt = Path(checkpoint)
    record_file = ckpt.parent.parent / "record.json"
    if not record_file.is_file():
        raise ExportError(f"no record.json beside {ckpt} (expected {record_file})")
    return source_from_record(load_design(str(resolve_design(design))), json.loads(record_file.read_text()), ckpt)
