"""The three-question profile: target group, hamlet, birth year (optional)."""

from __future__ import annotations

import dataclasses
import re

from bot.content import TARGET_GROUPS
from bot.engine import texts
from bot.engine.choices import Choice
from bot.engine.flow import Decision, Move, Screen, Stay, Turn
from bot.engine.states import State

_GROUP_ALIASES = {
    "adult": ("nguoi dan", "dan", "nguoi lon"),
    "pupil": ("hoc sinh", "hs", "hoc tro"),
    "official": ("can bo", "cong chuc", "can bo cong chuc", "vien chuc"),
    "worker": ("nguoi lao dong", "lao dong", "cong nhan", "doanh nghiep", "hop tac xa"),
}
_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")
SKIP = Choice("skip", texts.BTN_SKIP, ("bo qua", "khong", "ko", "thoi"))
NO_HAMLET = Choice("h.-", texts.BTN_HAMLET_NONE, ("khong ro", "noi khac", "xa khac"))


def group_screen(turn: Turn) -> Screen:
    """Ask which target group the learner belongs to."""
    choices = tuple(
        Choice(f"g.{gid}", label, _GROUP_ALIASES.get(gid, ()))
        for gid, label in TARGET_GROUPS.items()
    )
    return Screen((texts.ASK_GROUP,), choices)


def hamlet_screen(turn: Turn) -> Screen:
    """Ask which hamlet the learner lives in (names from the commune file)."""
    choices = tuple(Choice(f"h.{h.id}", h.name, h.aliases) for h in turn.world.commune.hamlets)
    return Screen((texts.ASK_HAMLET,), (*choices, NO_HAMLET))


def birth_year_screen(turn: Turn) -> Screen:
    """Ask for the birth year, which the learner may skip."""
    return Screen((texts.ASK_BIRTH_YEAR,), (SKIP,))


def handle_group(turn: Turn, choice: Choice | None, text: str | None) -> Decision:
    """Record the target group, then ask for the hamlet."""
    if choice is None:
        return Stay((texts.UNKNOWN,))
    group = choice.id.removeprefix("g.")
    profile = dataclasses.replace(turn.learner.profile, target_group=group)
    return Move(State.PROFILE_HAMLET, profile=profile)


def handle_hamlet(turn: Turn, choice: Choice | None, text: str | None) -> Decision:
    """Record the hamlet (or none), then ask for the birth year."""
    if choice is None:
        return Stay((texts.ASK_HAMLET_AGAIN,))
    hamlet = None if choice is NO_HAMLET else choice.id.removeprefix("h.")
    profile = dataclasses.replace(turn.learner.profile, hamlet_id=hamlet)
    return Move(State.PROFILE_BIRTH_YEAR, profile=profile)


def handle_birth_year(turn: Turn, choice: Choice | None, text: str | None) -> Decision:
    """Record a plausible birth year, or move on when skipped."""
    if choice is SKIP:
        return Move(State.MENU, before=(texts.PROFILE_DONE,))
    found = _YEAR.search(text or "")
    year = int(found.group(1)) if found else None
    if year is None or not 1900 <= year <= turn.world.today.year - 3:
        return Stay((texts.BIRTH_YEAR_INVALID,))
    profile = dataclasses.replace(turn.learner.profile, birth_year=year)
    return Move(State.MENU, profile=profile, before=(texts.PROFILE_DONE,))
