"""Weekly reminders end to end: the real `hocvuso serve` against the fake Telegram Bot API."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fakes.telegram_api import FakeTelegram
from server import running_server
from test_telegram_e2e import _env as telegram_env
from tgchat import TelegramUser

from bot.engine import texts
from bot.reminder_schedule import in_window

CHAT = 4701
TICK = 0.2


def _env(fake: FakeTelegram, database: Path) -> dict[str, str]:
    return {**telegram_env(fake, database), "HOCVUSO_REMINDER_INTERVAL_SECONDS": str(TICK)}


def _stored(value: str | None) -> datetime | None:
    """A time as SQLAlchemy keeps it in SQLite (UTC, no offset)."""
    return None if value is None else datetime.fromisoformat(value).replace(tzinfo=UTC)


def _reminder(database: Path) -> tuple[datetime | None, datetime | None] | None:
    with sqlite3.connect(database) as connection:
        row = connection.execute("select next_at, last_sent_at from reminder").fetchone()
    return None if row is None else (_stored(row[0]), _stored(row[1]))


def _make_due(database: Path, at: datetime) -> None:
    """Move the stored reminder to `at`, as if a week had gone by."""
    text = at.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    with sqlite3.connect(database) as connection:
        connection.execute("update reminder set next_at = ?", (text,))


def _reminders(user: TelegramUser) -> list[str]:
    return [m["text"] for m in user.messages() if m["text"] == texts.REMINDER_MESSAGE]


def test_opt_in_restart_and_a_due_reminder_is_sent_once_then_a_week_on(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    database = tmp_path / "tg.db"
    user = TelegramUser(fake, CHAT)
    with running_server(_env(fake, database), tmp_path / "first.log"):
        user.say("/start", "Bạn có đồng ý không?")
        user.press("Đồng ý", "Câu 1/3")
        user.press("Người dân", "Câu 2/3")
        user.say("thon 2", "Câu 3/3")
        user.say("1957", "Bạn muốn làm gì?")
        opted_at = datetime.now(UTC)
        user.press("Nhắc tôi học mỗi tuần", "Đã bật nhắc học")
        user.find_button("Dừng nhắc học")
        stored = _reminder(database)
        assert stored is not None
        first, last_sent = stored
        assert first is not None and last_sent is None
        assert first >= opted_at + timedelta(days=7) and in_window(first)
    assert _reminders(user) == []

    # A week later (made so in the database), after a restart: the row is the schedule.
    due = datetime.now(UTC) - timedelta(minutes=1)
    _make_due(database, due)
    with running_server(_env(fake, database), tmp_path / "second.log"):
        started = datetime.now(UTC)
        if not (in_window(started) and in_window(started + timedelta(seconds=30))):
            # Vietnam's quiet hours right now: several ticks pass and nothing goes out.
            deadline = time.monotonic() + 10 * TICK
            while time.monotonic() < deadline:
                assert _reminders(user) == []
                time.sleep(TICK / 4)
            assert _reminder(database) == (due, None)
            return
        fake.wait_for(lambda: len(_reminders(user)) == 1, what="the weekly reminder")
        stored = _reminder(database)
        assert stored is not None
        next_at, sent_at = stored
        assert sent_at is not None and started - timedelta(seconds=5) <= sent_at
        assert next_at == sent_at + timedelta(days=7)
        # "học tiếp", as the reminder says, starts the next lesson.
        user.say("học tiếp", "(1/")
        # Later ticks send nothing more this week.
        user.press("Về menu", "Bạn muốn làm gì?")
        user.say("dừng nhắc", "Đã dừng nhắc học")
        assert _reminder(database) is None
    assert len(_reminders(user)) == 1
    sends = [
        c for c in fake.calls("sendMessage") if c["params"].get("text") == texts.REMINDER_MESSAGE
    ]
    assert [c["status"] for c in sends] == [200]
