"""Prompt templates (genesys/agents/prompts/*.j2), versioned: each file's first line is `{# version: N #}` and the
rendered system prompt starts with a role marker `[genesys:role=<role> mode=<mode> v=<N>]` that traces keep (and
that scripted test servers answer by)."""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Dict, List

from jinja2 import Environment, FileSystemLoader, StrictUndefined

FOLDER = Path(__file__).parent / "prompts"
VERSION = re.compile(r"\{#\s*version:\s*(\d+)\s*#\}")


@lru_cache(maxsize=None)
def _env() -> Environment:
    return Environment(loader=FileSystemLoader(str(FOLDER)), undefined=StrictUndefined, keep_trailing_newline=True,
                       trim_blocks=True, lstrip_blocks=True, autoescape=False)


def version(name: str) -> int:
    match = VERSION.search((FOLDER / f"{name}.j2").read_text())
    if match is None:
        raise ValueError(f"prompt {name} has no version line")
    return int(match.group(1))


def render(name: str, **values) -> str:
    return _env().get_template(f"{name}.j2").render(**values).strip() + "\n"


def messages(role: str, mode: str, system: str, user: str, **values) -> List[Dict[str, str]]:
    """[system, user] for a role: the system template's text after the role marker, the user template rendered."""
    marker = f"[genesys:role={role} mode={mode} v={version(system)}]"
    return [{"role": "system", "content": marker + "\n" + render(system, mode=mode, **values)},
            {"role": "user", "content": render(user, mode=mode, **values)}]
