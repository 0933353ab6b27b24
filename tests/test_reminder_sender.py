"""The reminder loop with real parts: SQLite, python-telegram-bot's Bot, the fake Bot API."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from fakes.telegram_api import FakeTelegram
from fakes.zalo_api import FakeZalo
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel
from telegram import Bot

from bot.channels.reminders import Push, ReminderSender, telegram_push, zalo_push
from bot.channels.zalo_api import ZaloClient
from bot.engine import texts
from bot.reminder_schedule import in_window
from storage.db import make_engine, migrate
from storage.records import Changes, Consent, LearnerKey, ReminderChange
from storage.reminders import SqlReminders
from storage.repository import SqlRepository

VN = timezone(timedelta(hours=7))
NOON = datetime(2026, 11, 23, 12, 0, tzinfo=VN)
WEEK = timedelta(days=7)
REMINDER = SQLModel.metadata.tables["reminder"]


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now.astimezone(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def database(sqlite_url: str) -> Iterator[Engine]:
    engine = make_engine(sqlite_url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(fake.token, base_url=fake.base_url) as real:
        yield real


def learner_due(
    database: Engine,
    fake: FakeTelegram,
    chat_id: int,
    at: datetime,
    channel: str = "telegram",
    chat: str | None = None,
) -> int:
    """A learner who opted into reminders due at `at` (on Telegram, after writing once)."""
    if channel == "telegram":
        fake.send_message(chat_id, "/start")  # the chat exists on the platform
    repository = SqlRepository(database)
    key = LearnerKey(channel, chat or str(chat_id))
    created = repository.enrol(key, Consent("2026-01"), "menu", {})
    assert created is not None
    changes = Changes("menu", {}, reminder=ReminderChange(at))
    assert repository.apply(created.learner_id, created.version, changes)
    return created.learner_id


def next_at(database: Engine, learner_id: int) -> datetime | None:
    with database.connect() as connection:
        found: datetime | None = connection.execute(
            REMINDER.select()
            .with_only_columns(REMINDER.c.next_at)
            .where(REMINDER.c.learner_id == learner_id)
        ).scalar_one_or_none()
    return found


def reminders_sent(fake: FakeTelegram, chat_id: int) -> list[dict[str, Any]]:
    return [m for m in fake.sent(chat_id) if m["text"] == texts.REMINDER_MESSAGE]


def sender(database: Engine, push: Push, clock: Clock, **options: Any) -> ReminderSender:
    return ReminderSender(
        SqlReminders(database), {"telegram": push}, clock=clock, **{"spacing": 0.0, **options}
    )


async def test_due_reminders_go_out_once_and_move_a_week_on(
    database: Engine, fake: FakeTelegram, bot: Bot
) -> None:
    clock = Clock(NOON)
    due = [learner_due(database, fake, 500 + i, clock.now - timedelta(minutes=i)) for i in range(3)]
    later = learner_due(database, fake, 510, clock.now + timedelta(hours=1))
    loop = sender(database, telegram_push(bot), clock)

    assert await loop.send_due() == 3
    for i, learner in enumerate(due):
        assert len(reminders_sent(fake, 500 + i)) == 1
        assert next_at(database, learner) == clock.now + WEEK
    assert reminders_sent(fake, 510) == []
    assert next_at(database, later) == clock.now + timedelta(hours=1)
    # The same tick again, or a minute later: nothing more.
    assert await loop.send_due() == 0
    clock.now += timedelta(minutes=1)
    assert await loop.send_due() == 0
    assert sum(len(reminders_sent(fake, 500 + i)) for i in range(3)) == 3


async def test_a_failed_send_is_retried_next_tick_not_next_week(
    database: Engine, fake: FakeTelegram, bot: Bot
) -> None:
    clock = Clock(NOON)
    learner = learner_due(database, fake, 520, clock.now)
    fake.fail_next("sendMessage", status=500)
    loop = sender(database, telegram_push(bot), clock, interval=30.0)
    assert await loop.send_due() == 1
    assert reminders_sent(fake, 520) == []
    assert next_at(database, learner) == clock.now + timedelta(seconds=30)
    clock.now += timedelta(seconds=30)
    assert await loop.send_due() == 1
    assert len(reminders_sent(fake, 520)) == 1
    assert next_at(database, learner) == clock.now + WEEK


async def test_a_blocked_chat_keeps_next_weeks_date(
    database: Engine, fake: FakeTelegram, bot: Bot
) -> None:
    clock = Clock(NOON)
    learner = learner_due(database, fake, 530, clock.now)
    fake.block(530)
    loop = sender(database, telegram_push(bot), clock)
    assert await loop.send_due() == 1
    assert next_at(database, learner) == clock.now + WEEK
    clock.now += timedelta(minutes=5)
    assert await loop.send_due() == 0
    assert [c["status"] for c in fake.calls("sendMessage")] == [403]


@pytest.mark.parametrize(
    "local", [datetime(2026, 11, 23, 21, 0, tzinfo=VN), datetime(2026, 11, 24, 6, 59, tzinfo=VN)]
)
async def test_nothing_is_sent_in_the_quiet_hours(
    database: Engine, fake: FakeTelegram, bot: Bot, local: datetime
) -> None:
    clock = Clock(local)
    learner = learner_due(database, fake, 540, clock.now - timedelta(hours=2))
    loop = sender(database, telegram_push(bot), clock)
    assert await loop.send_due() == 0
    assert fake.calls("sendMessage") == []
    assert next_at(database, learner) == clock.now - timedelta(hours=2)
    # At 07:00 it goes.
    clock.now = datetime(2026, 11, 24, 7, 0, tzinfo=VN).astimezone(UTC)
    assert await loop.send_due() == 1
    assert len(reminders_sent(fake, 540)) == 1


async def test_when_21_00_comes_mid_batch_the_rest_wait_for_morning(
    database: Engine, fake: FakeTelegram, bot: Bot
) -> None:
    clock = Clock(datetime(2026, 11, 23, 20, 59, 59, tzinfo=VN))
    learners = [
        learner_due(database, fake, 550 + i, clock.now - timedelta(minutes=i)) for i in range(3)
    ]
    real = telegram_push(bot)

    async def push_then_tick(chat_id: str, text: str) -> None:
        await real(chat_id, text)
        clock.now += timedelta(seconds=1)  # the first send takes us to 21:00:00

    loop = sender(database, push_then_tick, clock)
    assert await loop.send_due() == 3
    sent = [chat for chat in range(550, 553) if reminders_sent(fake, chat)]
    assert len(sent) == 1
    morning = datetime(2026, 11, 24, 8, 0, tzinfo=VN)
    waiting = [learner for learner in learners if next_at(database, learner) == morning]
    assert len(waiting) == 2


async def test_stopping_puts_back_what_was_not_sent(
    database: Engine, fake: FakeTelegram, bot: Bot
) -> None:
    clock = Clock(NOON)
    learners = [learner_due(database, fake, 560 + i, clock.now) for i in range(3)]
    real = telegram_push(bot)
    loop: ReminderSender

    async def push_then_stop(chat_id: str, text: str) -> None:
        await real(chat_id, text)
        loop.stop()

    loop = sender(database, push_then_stop, clock)
    assert await loop.send_due() == 3
    assert sum(len(reminders_sent(fake, 560 + i)) for i in range(3)) == 1
    due_again = [learner for learner in learners if next_at(database, learner) == clock.now]
    assert len(due_again) == 2


async def test_the_loop_sends_in_capped_spaced_batches_and_stops(
    database: Engine, fake: FakeTelegram, bot: Bot
) -> None:
    clock = Clock(NOON)
    chats = list(range(570, 577))
    for chat in chats:
        learner_due(database, fake, chat, clock.now)
    loop = sender(database, telegram_push(bot), clock, batch=3, spacing=0.05, interval=5.0)
    task = asyncio.create_task(loop.run())
    deadline = time.monotonic() + 15
    while sum(len(reminders_sent(fake, chat)) for chat in chats) < len(chats):
        assert time.monotonic() < deadline, fake.dump()
        assert not task.done(), task
        await asyncio.sleep(0.02)
    loop.stop()
    await asyncio.wait_for(task, timeout=5)
    assert all(len(reminders_sent(fake, chat)) == 1 for chat in chats)
    times = sorted(c["time"] for c in fake.calls("sendMessage") if c["params"].get("text"))
    sends = times[-len(chats) :]
    gaps = [b - a for a, b in itertools.pairwise(sends)]
    assert min(gaps) >= 0.04, gaps


async def test_the_loop_wakes_for_a_reminder_falling_due_before_the_interval(
    database: Engine, fake: FakeTelegram, bot: Bot
) -> None:
    # The clock is real here: a reminder due in 0.3 s is sent although the interval is 60 s.
    now = datetime.now(UTC)
    if not (in_window(now) and in_window(now + timedelta(seconds=15))):
        pytest.skip("Vietnam's quiet hours right now")
    learner_due(database, fake, 580, now + timedelta(seconds=0.3))
    loop = ReminderSender(SqlReminders(database), {"telegram": telegram_push(bot)}, interval=60.0)
    task = asyncio.create_task(loop.run())
    deadline = time.monotonic() + 10
    while not reminders_sent(fake, 580):
        assert time.monotonic() < deadline
        await asyncio.sleep(0.02)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_zalo_reminders_go_out_and_an_unknown_chat_is_not_retried(
    database: Engine, fake: FakeTelegram
) -> None:
    clock = Clock(NOON)
    with FakeZalo() as zalo:
        zalo.send_text("z-1", "xin chào")  # this chat has written to the bot; "z-2" never did
        reachable = learner_due(database, fake, 0, clock.now, channel="zalo", chat="z-1")
        unknown = learner_due(database, fake, 0, clock.now, channel="zalo", chat="z-2")
        client = ZaloClient(zalo.token, zalo.url, first_backoff=0.01)
        zalo.fail_next("sendMessage", count=1, error_code=429)  # retried inside the client
        try:
            loop = ReminderSender(
                SqlReminders(database), {"zalo": zalo_push(client)}, clock=clock, spacing=0.0
            )
            assert await loop.send_due() == 2
        finally:
            await client.close()
        assert [m.get("text") for m in zalo.sent("z-1")] == [texts.REMINDER_MESSAGE]
        assert zalo.sent("z-2") == []
    assert next_at(database, reachable) == clock.now + WEEK
    assert next_at(database, unknown) == clock.now + WEEK
