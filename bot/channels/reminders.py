"""Sending weekly reminders: a loop that claims due reminders and pushes them to the platform.

The `reminder` rows are the schedule (`storage.reminders`), so the loop keeps no state of its
own and any number of processes may run it. Each tick, inside the 07:00-21:00 window only, it
claims at most `batch` due reminders (which moves each to next week in the same transaction)
and sends them one by one, `spacing` seconds apart, well under Telegram's 30 messages a
second; python-telegram-bot's rate limiter and the Zalo client's 429 retries sit beneath.
A send that fails for a passing reason (network, flood limit, server error) is put back,
due again at the next tick; a chat the platform refuses for good (bot blocked, chat gone)
keeps next week's date.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Collection, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from telegram.error import BadRequest, Forbidden

from bot.channels.zalo_api import ZaloClient, ZaloError
from bot.engine import texts
from bot.reminder_schedule import in_window, into_window, next_reminder
from storage.reminders import DueReminder

log = logging.getLogger(__name__)

Push = Callable[[str, str], Awaitable[None]]
"""Send `text` to the chat `chat_id` on one platform; raise `Undeliverable` if it never can."""

# Zalo answers these for a chat that cannot be reached (unknown, blocked, no permission).
_ZALO_UNDELIVERABLE = {400, 403, 404}


class Undeliverable(Exception):
    """The platform refuses this chat for good (bot blocked, chat unknown): do not retry."""


class ReminderStore(Protocol):
    """Where due reminders come from (`storage.reminders.SqlReminders`)."""

    def claim_due(
        self, now: datetime, next_at: datetime, channels: Collection[str], limit: int = 20
    ) -> list[DueReminder]:
        """Take due reminders, rescheduling each to `next_at`."""
        ...

    def retry(self, item: DueReminder, at: datetime) -> bool:
        """Put a claimed reminder back, due at `at`."""
        ...

    def next_due_at(self, channels: Collection[str]) -> datetime | None:
        """When the earliest reminder is due."""
        ...


def telegram_push(bot: Any) -> Push:
    """A `Push` through python-telegram-bot's `Bot` (with its rate limiter)."""

    async def push(chat_id: str, text: str) -> None:
        try:
            await bot.send_message(int(chat_id), text)
        except (Forbidden, BadRequest) as exc:
            # Blocked by the learner, or the chat is gone: retrying cannot help.
            raise Undeliverable(f"telegram: {exc}") from None

    return push


def zalo_push(client: ZaloClient) -> Push:
    """A `Push` through the Zalo Bot API client (which retries 429 and 5xx itself)."""

    async def push(chat_id: str, text: str) -> None:
        try:
            await client.send_message(chat_id, text)
        except ZaloError as exc:
            if exc.error_code in _ZALO_UNDELIVERABLE:
                raise Undeliverable(f"zalo: {exc.error_code}") from None
            raise

    return push


def _utcnow() -> datetime:
    return datetime.now(UTC)


class ReminderSender:
    """Claims due reminders each tick and sends them, spaced out, until stopped."""

    def __init__(
        self,
        store: ReminderStore,
        pushes: Mapping[str, Push],
        *,
        interval: float = 60.0,
        batch: int = 20,
        spacing: float = 0.1,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        """Send on the channels in `pushes`, looking every `interval` seconds."""
        self._store = store
        self._pushes = dict(pushes)
        self._interval = interval
        self._batch = batch
        self._spacing = spacing
        self._clock = clock
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        """Finish the reminder being sent, put back the rest of the batch, and end `run`."""
        self._stopping.set()

    async def run(self) -> None:
        """Send due reminders until stopped or cancelled."""
        while not self._stopping.is_set():
            try:
                claimed = await self.send_due()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database may be briefly away; never let the loop die
                log.exception("reminders: could not read the schedule")
                claimed = 0
            if claimed < self._batch:
                await self._wait(await self._next_wait())
            else:
                await self._wait(self._spacing)

    async def send_due(self) -> int:
        """One tick: claim up to a batch of due reminders and send them; returns how many."""
        now = self._clock()
        if not self._pushes or not in_window(now):
            return 0
        items = await asyncio.to_thread(
            self._store.claim_due, now, next_reminder(now), tuple(self._pushes), self._batch
        )
        pending = list(items)
        try:
            while pending:
                if self._stopping.is_set():
                    break
                at = self._clock()
                if not in_window(at):
                    break  # 21:00 came while sending: the rest wait for the morning
                item = pending.pop(0)
                await self._send(item)
                if pending:
                    await self._wait(self._spacing)
        finally:
            # Stopped, cancelled or out of the window: what was claimed but not sent is
            # put back. Synchronous on purpose, so a cancelled task still does it.
            for item in pending:
                self._store.retry(item, into_window(self._clock()))
        return len(items)

    async def _send(self, item: DueReminder) -> None:
        """Send one reminder; a passing failure puts it back for the next tick."""
        push = self._pushes[item.channel]
        try:
            await push(item.chat_id, texts.REMINDER_MESSAGE)
        except asyncio.CancelledError:
            raise
        except Undeliverable as exc:
            log.info("reminders: learner %d unreachable (%s); next week", item.learner_id, exc)
        except Exception as exc:
            retry_at = into_window(self._clock() + timedelta(seconds=self._interval))
            log.warning(
                "reminders: sending to learner %d failed (%s); retry at %s",
                item.learner_id,
                type(exc).__name__,
                retry_at.isoformat(timespec="seconds"),
            )
            await asyncio.to_thread(self._store.retry, item, retry_at)

    async def _next_wait(self) -> float:
        """Seconds to the next tick: the interval, or sooner if a reminder falls due first."""
        now = self._clock()
        due = await asyncio.to_thread(self._store.next_due_at, tuple(self._pushes))
        if due is None:
            return self._interval
        wake = max(into_window(due), into_window(now))
        if wake <= now:
            # Due but not claimed: another worker has it, or it was sent under 7 days ago.
            return self._interval
        return min(self._interval, (wake - now).total_seconds())

    async def _wait(self, seconds: float) -> None:
        """Sleep up to `seconds`, waking at once when stopped."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
