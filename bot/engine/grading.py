"""Tolerant grading of answers typed in free text."""

from __future__ import annotations

from rapidfuzz import fuzz

from bot.textnorm import fold

_FUZZY_MIN = 85.0


def accepts(typed: str, accepted: tuple[str, ...]) -> bool:
    """True when `typed` says one of the accepted answers, allowing for typos and no diacritics.

    "Ten nguoi nhan a" and "tên ngừoi nhận" both say "tên người nhận"; numbers must be exact
    ("1565" is not "156"), but may sit inside a sentence ("nhắn 156").
    """
    said = fold(typed)
    if not said:
        return False
    padded = f" {said} "
    for answer in map(fold, accepted):
        if not answer:
            continue
        if said == answer or f" {answer} " in padded:
            return True
        if not answer.isdigit() and len(answer) >= 4 and fuzz.ratio(said, answer) >= _FUZZY_MIN:
            return True
    return False
