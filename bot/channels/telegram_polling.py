"""Long polling for Telegram: one poller, updates stored in the inbox before confirming them.

An update is confirmed to Telegram only by asking with a higher offset, and we ask only after
the update is safely in the inbox: a crash between the two means Telegram sends it again,
and the inbox recognises it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TelegramError

from bot.channels.inbox import Inbox
from bot.channels.telegram import ALLOWED_UPDATES, CHANNEL

log = logging.getLogger(__name__)

LONG_POLL_SECONDS = 25
MAX_BACKOFF = 30.0


class TelegramPoller:
    """Fetches updates with getUpdates and files them in the inbox."""

    def __init__(self, bot: Any, inbox: Inbox, wake: Callable[[], None]) -> None:
        self._bot = bot
        self._inbox = inbox
        self._wake = wake
        self._offset: int | None = None

    async def run(self) -> None:
        """Poll until cancelled; network trouble is retried with growing pauses."""
        await self._bot.delete_webhook()
        failures = 0
        while True:
            try:
                await self.poll_once()
                failures = 0
            except asyncio.CancelledError:
                raise
            except InvalidToken:
                log.error("telegram: the bot token was refused; polling stops")
                return
            except RetryAfter as exc:
                await asyncio.sleep(_seconds(exc.retry_after))
            except (NetworkError, Conflict, TelegramError) as exc:
                failures += 1
                pause = min(2.0 ** (failures - 1), MAX_BACKOFF)
                log.warning("telegram: getUpdates failed (%s); retrying in %.0fs", exc, pause)
                await asyncio.sleep(pause)

    async def poll_once(self) -> int:
        """One getUpdates round; returns how many new updates were stored."""
        updates = await self._bot.get_updates(
            offset=self._offset, timeout=LONG_POLL_SECONDS, allowed_updates=ALLOWED_UPDATES
        )
        stored = 0
        for update in updates:
            payload = update.to_dict()
            if await asyncio.to_thread(self._inbox.add, CHANNEL, str(update.update_id), payload):
                stored += 1
            self._offset = update.update_id + 1
        if stored:
            self._wake()
        return stored


def _seconds(value: Any) -> float:
    """retry_after is an int or a timedelta depending on settings."""
    return float(value.total_seconds()) if hasattr(value, "total_seconds") else float(value)
