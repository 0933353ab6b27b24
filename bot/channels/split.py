"""Splitting long text at natural boundaries to fit a platform's message limit."""

from __future__ import annotations

import re

# Preferred cut points, best first: paragraph, line, sentence end, then any space.
_BOUNDARIES = (re.compile(r"\n\s*\n"), re.compile(r"\n"), re.compile(r"(?<=[.!?…])\s+"))
_SPACE = re.compile(r"\s+")


def split_text(text: str, limit: int) -> list[str]:
    """Cut `text` into pieces of at most `limit` characters, at the best boundary available."""
    if limit < 1:
        raise ValueError("limit must be positive")
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        cut = _cut_point(rest, limit)
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest or not pieces:
        pieces.append(rest)
    return [piece for piece in pieces if piece] or [text[:limit]]


def _cut_point(text: str, limit: int) -> int:
    """Where to cut: the last good boundary within the limit, past a third of it."""
    window = text[: limit + 1]
    for boundary in (*_BOUNDARIES, _SPACE):
        ends = [m.end() for m in boundary.finditer(window) if limit // 3 <= m.start() <= limit]
        if ends:
            return min(ends[-1], limit)
    return limit
