"""Secrets never leave the process in text we write: any env value that looks like a secret (a variable whose name
says KEY, TOKEN, SECRET or PASSWORD, 8 characters or more) is replaced by its name in prompts, ledger rows, cached
answers, traces and logs."""
from __future__ import annotations

import os
import re
from typing import Any, Dict, List

SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD", re.IGNORECASE)
MIN_LEN = 8


def secrets() -> Dict[str, str]:
    return {name: value for name, value in os.environ.items() if SECRET_NAME.search(name) and len(value) >= MIN_LEN}


def redact(text: str) -> str:
    if not text:
        return text
    for name, value in sorted(secrets().items(), key=lambda kv: -len(kv[1])):
        if value in text:
            text = text.replace(value, f"[redacted:{name}]")
    return text


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
