"""When a weekly reminder may go out: at most once a week, never between 21:00 and 07:00.

Local time is Vietnam's (Asia/Ho_Chi_Minh, UTC+7 all year, no daylight saving). The next
reminder is due seven days after the last one was sent (or after the learner opted in). If
that moment falls in the quiet hours, it moves forward to 08:00 local time the next morning:
an hour after the window opens, so nobody's phone buzzes at the very first minute allowed.
Times only ever move forward, so two reminders are always at least seven days apart.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
WEEK = timedelta(days=7)
WINDOW_START = time(7, 0)
WINDOW_END = time(21, 0)
QUIET_HOURS_MOVE_TO = time(8, 0)


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("naive datetime: use datetime.now(UTC)")
    return at


def local(at: datetime) -> datetime:
    """The same instant on the commune's clock."""
    return _aware(at).astimezone(LOCAL)


def in_window(at: datetime) -> bool:
    """Whether a reminder may be sent at `at`: 07:00 <= local time < 21:00."""
    return WINDOW_START <= local(at).time() < WINDOW_END


def into_window(at: datetime) -> datetime:
    """`at` itself (in UTC) if inside the window, else the next 08:00 local time."""
    here = local(at)
    if in_window(here):
        return here.astimezone(UTC)
    day = here.date() if here.time() < WINDOW_START else here.date() + timedelta(days=1)
    return datetime.combine(day, QUIET_HOURS_MOVE_TO, LOCAL).astimezone(UTC)


def next_reminder(after: datetime) -> datetime:
    """When the next reminder is due: a week after `after`, moved out of the quiet hours."""
    return into_window(_aware(after) + WEEK)
