"""Shared by every benchmark: the machine's description and its section of docs/benchmarks.md.

Each benchmark owns one `## <title>` section and rewrites only that one, so benchmarks can
be run in any order and each keeps the figures of its last full run.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "docs" / "benchmarks.md"


def machine() -> str:
    """One line about the machine the figures come from."""
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )


def run_line(command: str) -> str:
    """The date, the machine and how to reproduce, for the head of a section."""
    return f"Run {dt.date.today().isoformat()} on {machine()}. Reproduce: `{command}`."


def write_section(title: str, body: str) -> None:
    """Replace (or append) the `## <title>` section of docs/benchmarks.md with `body`."""
    mark = f"## {title}"
    section = f"{mark}\n\n{body.strip()}\n"
    text = BENCHMARKS.read_text(encoding="utf-8") if BENCHMARKS.exists() else "# Benchmarks\n"
    if mark in text:
        head, _, rest = text.partition(mark)
        tail = rest[rest.find("\n## ") + 1 :] if "\n## " in rest else ""
        text = head + section + ("\n" + tail if tail else "")
    else:
        text = text.rstrip() + "\n\n" + section
    BENCHMARKS.write_text(text, encoding="utf-8")
