"""Keeping secrets out of what the loop writes down (console, logs, the store): database passwords in URLs and
config values whose key names a secret (an LLM API key given in the designer's config)."""
from __future__ import annotations

import re
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

HIDDEN = "***"
_SECRET_KEY = re.compile(r"(^|_)(api_?key|key|token|secret|secrets|password|passwd|credentials?)(_|$)", re.I)


def public_url(url: str) -> str:
    """The URL with its password hidden (anything that is not a database URL comes back as it is)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def redact(value: Any) -> Any:
    """A copy of a config tree with the values of secret-named keys hidden and URL passwords hidden."""
    if isinstance(value, dict):
        return {k: HIDDEN if _SECRET_KEY.search(str(k)) and v not in (None, "") else redact(v)
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(v) for v in value]
    if isinstance(value, str) and "://" in value and "@" in value:
        return public_url(value)
    return value
