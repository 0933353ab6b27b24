"""Matching what a learner typed to the choices on screen: by number or by words."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz

from bot.textnorm import fold

_FUZZY_MIN = 85.0
# "2", " 2 ", "2." and "2)" pick the second choice; "-2" or "2 con" do not.
_NUMBER = re.compile(r"^\s*(\d{1,3})\s*[.)]?\s*$")


@dataclass(frozen=True, slots=True)
class Choice:
    """A choice on screen: a local id, the label shown, and other words that pick it."""

    id: str
    label: str
    aliases: tuple[str, ...] = ()

    def names(self) -> list[str]:
        """The folded label and aliases, the forms typed text is compared with."""
        return [name for name in (fold(self.label), *map(fold, self.aliases)) if name]


def match_choice(text: str, choices: tuple[Choice, ...]) -> Choice | None:
    """The choice the learner meant by `text`, or None when it is not clearly one of them.

    "2", "hoc tiep", "Học tiếp!" and "hoc tiepp" all pick the choice labelled "📚 Học tiếp".
    """
    typed = fold(text)
    if not typed or not choices:
        return None
    numbered = _NUMBER.match(text)
    if numbered:
        number = int(numbered.group(1))
        return choices[number - 1] if 1 <= number <= len(choices) else None
    if typed.isdigit():
        return None
    exact = [c for c in choices if typed in c.names()]
    if len(exact) == 1:
        return exact[0]
    # A learner often types the start of a long label ("chon chu de" for "Chọn chủ đề học").
    if len(typed) >= 4:
        prefixed = [c for c in choices if any(n.startswith(typed) for n in c.names())]
        if len(prefixed) == 1:
            return prefixed[0]
    scored = sorted(
        (
            (max((fuzz.ratio(typed, n) for n in c.names()), default=0.0), i)
            for i, c in enumerate(choices)
        ),
        reverse=True,
    )
    best_score, best = scored[0]
    runner_up = scored[1][0] if len(scored) > 1 else 0.0
    if best_score >= _FUZZY_MIN and best_score > runner_up:
        return choices[best]
    return None
