"""The reminder schedule: once a week, only between 07:00 and 21:00 Vietnam time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.reminder_schedule import LOCAL, WEEK, in_window, into_window, next_reminder

VN = timezone(timedelta(hours=7))


def vn(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A moment in November 2026, Vietnam time."""
    return datetime(2026, 11, day, hour, minute, second, tzinfo=VN)


@pytest.mark.parametrize(
    ("moment", "allowed"),
    [
        (vn(23, 6, 59, 59), False),
        (vn(23, 7, 0), True),
        (vn(23, 12, 0), True),
        (vn(23, 20, 59, 59), True),
        (vn(23, 21, 0), False),
        (vn(23, 23, 0), False),
        (vn(24, 0, 0), False),
    ],
)
def test_window_is_seven_to_twenty_one_local(moment: datetime, allowed: bool) -> None:
    assert in_window(moment) is allowed
    # The same instant written in UTC gives the same answer.
    assert in_window(moment.astimezone(UTC)) is allowed


@pytest.mark.parametrize(
    ("after", "due"),
    [
        # Inside the window: exactly a week later, same local time.
        (vn(23, 20, 59), vn(30, 20, 59)),
        (vn(23, 7, 0), vn(30, 7, 0)),
        (vn(23, 14, 37, 22), vn(30, 14, 37, 22)),
        # 21:00 is already quiet: the next morning at 08:00.
        (vn(23, 21, 0), datetime(2026, 12, 1, 8, 0, tzinfo=VN)),
        # Opting in at 23:00: the morning after the week is over.
        (vn(23, 23, 0), datetime(2026, 12, 1, 8, 0, tzinfo=VN)),
        # Midnight and 06:59 belong to the same morning.
        (vn(24, 0, 0), datetime(2026, 12, 1, 8, 0, tzinfo=VN)),
        (vn(24, 6, 59), datetime(2026, 12, 1, 8, 0, tzinfo=VN)),
    ],
)
def test_next_reminder_is_a_week_later_inside_the_window(after: datetime, due: datetime) -> None:
    got = next_reminder(after)
    assert got == due
    assert got.tzinfo is UTC
    assert in_window(got)
    assert got - after >= WEEK


def test_utc_midnight_is_seven_in_the_morning_in_vietnam() -> None:
    # 00:00 UTC = 07:00 ICT: the window is judged on the commune's clock, not the server's.
    assert in_window(datetime(2026, 11, 23, 0, 0, tzinfo=UTC))
    assert not in_window(datetime(2026, 11, 22, 23, 59, tzinfo=UTC))
    assert not in_window(datetime(2026, 11, 23, 14, 0, tzinfo=UTC))  # 21:00 local


def test_the_zone_has_no_daylight_saving() -> None:
    offsets = {
        datetime(2026, month, 15, 12, tzinfo=UTC).astimezone(LOCAL).utcoffset()
        for month in range(1, 13)
    }
    assert offsets == {timedelta(hours=7)}
    # A whole year of weekly reminders keeps the same local time.
    at = vn(23, 19, 0)
    for _ in range(60):
        following = next_reminder(at)
        assert following - at == WEEK
        assert following.astimezone(LOCAL).hour == 19
        at = following


def test_into_window_leaves_allowed_times_alone_and_moves_quiet_ones_forward() -> None:
    assert into_window(vn(23, 10, 0)) == vn(23, 10, 0)
    assert into_window(vn(23, 5, 0)) == vn(23, 8, 0)
    assert into_window(vn(23, 22, 0)) == vn(24, 8, 0)


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        next_reminder(datetime(2026, 11, 23, 12, 0))
    with pytest.raises(ValueError, match="naive"):
        in_window(datetime(2026, 11, 23, 12, 0))
