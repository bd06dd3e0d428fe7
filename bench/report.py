"""Write one benchmark's section of BENCHMARKS.md, leaving the other sections as they are."""
from __future__ import annotations

import platform
import re
from datetime import date
from pathlib import Path

import torch

BENCHMARKS = Path(__file__).resolve().parents[1] / "BENCHMARKS.md"
HEADER = "# Benchmarks\n\nMeasured numbers, written by the scripts in `bench/`. Each section says how to reproduce it.\n"


def machine() -> str:
    return f"{platform.processor() or platform.machine()}, torch {torch.__version__}, {torch.get_num_threads()} threads, {date.today()}"


def write_section(title: str, body: str) -> None:
    """Replace (or append) the section `## title` with `body`."""
    text = BENCHMARKS.read_text() if BENCHMARKS.exists() else HEADER
    section = f"## {title}\n\n{body.strip()}\n"
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text, count=1)
    else:
        text = text.rstrip() + "\n\n" + section
    BENCHMARKS.write_text(text.rstrip() + "\n")
