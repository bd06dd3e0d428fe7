"""Secrets never leave the process in text we write: any secret environment value (genesys.secrets: a variable
whose name says KEY, TOKEN, SECRET, PASSWORD ..., 8 characters or more) is replaced by its name in prompts, ledger
rows, cached answers, traces and logs."""
from __future__ import annotations

from typing import Any, Dict, List

from genesys.secrets import redact_text as redact


def redact_obj(value: Any) -> Any:
    """Strings anywhere inside dicts and lists."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_obj(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_obj(v) for v in value]
    return value


def redact_messages(messages: List[Dict[str, str]]) -> List[Dict[str, str]]:
    return [{**m, "content": redact(m.get("content") or "")} for m in messages]
