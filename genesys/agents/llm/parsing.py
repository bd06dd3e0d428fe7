"""Reading structured answers: the JSON object in an answer (a fenced block or the first balanced object), the code
blocks of a coder's answer, and the repair message that asks again when an answer does not validate."""
from __future__ import annotations

import json
import re
from typing import List, Optional, Type

from pydantic import BaseModel, ValidationError

FENCE = re.compile(r"```([A-Za-z0-9_+-]*)[ \t]*\n(.*?)```", re.DOTALL)


class Unreadable(ValueError):
    """The answer holds no object that validates; the message says why (it goes into the repair prompt)."""


def code_blocks(text: str, language: Optional[str] = "python") -> List[str]:
    """The fenced code blocks of an answer (those tagged `language`, or untagged)."""
    return [body for tag, body in FENCE.findall(text or "") if language is None or tag.lower() in (language, "")]


def _balanced_objects(text: str):
    depth, start, in_str, escape = 0, None, False, False
    for i, ch in enumerate(text):
        if in_str:
            escape = not escape and ch == "\\"
            if ch == '"' and not escape:
                in_str = False
            continue
        if ch == '"':
            in_str = True
        elif ch == "{":
            start = i if depth == 0 else start
            depth += 1
        elif ch == "}" and depth:
            depth -= 1
            if depth == 0:
                yield text[start:i + 1]


def extract_json(text: str) -> dict:
    if not text or not text.strip():
        raise Unreadable("the answer was empty")
    candidates = [body for tag, body in FENCE.findall(text) if tag.lower() in ("json", "")]
    candidates += list(_balanced_objects(text))
    errors = []
    for candidate in candidates:
        try:
            value = json.loads(candidate)
        except json.JSONDecodeError as exc:
            errors.append(str(exc))
            continue
        if isinstance(value, dict):
            return value
    raise Unreadable("no JSON object found in the answer" + (f" ({errors[0]})" if errors else ""))


def parse(text: str, schema: Type[BaseModel]) -> BaseModel:
    value = extract_json(text)
    try:
        return schema.model_validate(value)
    except ValidationError as exc:
        raise Unreadable("; ".join(f"{'.'.join(map(str, e['loc'])) or 'answer'}: {e['msg']}"
                                   for e in exc.errors())) from exc


def repair_message(error: str, schema: Type[BaseModel]) -> str:
    return (f"Your answer could not be read: {error}.\nAnswer again with one JSON object (in a ```json block) that "
            f"matches this JSON schema, and nothing else:\n{json.dumps(schema.model_json_schema())}")
