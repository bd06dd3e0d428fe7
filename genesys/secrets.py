"""What counts as a secret, in one place (below every layer): the training child's environment drops secret-named
variables (verify.job), the loop hides secret-named config values and URL passwords in what it stores and prints
(evolution), and the LLM flows replace secret values in every text they write (agents).

A name is secret when one of its `_`-separated words is KEY, API_KEY/APIKEY, TOKEN, SECRET(S), PASSWORD/PASSWD or
CREDENTIAL(S), in any case: OPENAI_API_KEY, HF_TOKEN, AWS_SECRET_ACCESS_KEY, db_password -- but not max_tokens or
TOKENIZERS_PARALLELISM.
"""
from __future__ import annotations

import os
import re
from typing import Any, Dict

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

SECRET_NAME = re.compile(r"(^|_)(API_?KEY|KEY|TOKEN|SECRETS?|PASSWORD|PASSWD|CREDENTIALS?)(_|$)", re.I)
HIDDEN = "***"
MIN_SECRET_LEN = 8            # shorter values (flags, "1", "true") are not worth hiding and would mangle text


def is_secret_name(name: str) -> bool:
    return bool(SECRET_NAME.search(str(name)))


def secret_env_values() -> Dict[str, str]:
    """{name: value} of the environment's secret-named variables long enough to be a real secret."""
    return {k: v for k, v in os.environ.items() if is_secret_name(k) and len(v) >= MIN_SECRET_LEN}


def redact_text(text: str) -> str:
    """The text with every secret environment value replaced by `[redacted:NAME]` (longest values first)."""
    if not text:
        return text
    for name, value in sorted(secret_env_values().items(), key=lambda kv: -len(kv[1])):
        if value in text:
            text = text.replace(value, f"[redacted:{name}]")
    return text


def public_url(url: str) -> str:
    """The URL with its password hidden (anything that is not a database URL comes back as it is)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def redact_config(value: Any) -> Any:
    """A copy of a config tree with the values of secret-named keys hidden and URL passwords hidden."""
    if isinstance(value, dict):
        return {k: HIDDEN if is_secret_name(k) and v not in (None, "") else redact_config(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_config(v) for v in value]
    if isinstance(value, str) and "://" in value and "@" in value:
        return public_url(value)
    return value
