"""Reading the end of a log file (a child's output) for error messages, without loading the whole file."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Union


def tail(path: Union[str, Path], chars: int = 4000) -> str:
    """The last `chars` bytes of a file as text ("" when it cannot be read)."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - chars))
            return f.read().decode(errors="replace")
    except OSError:
        return ""
