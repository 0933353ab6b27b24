"""Long polling for Zalo: one update per getUpdates, stored in the inbox at once.

Zalo has no offset: an update handed out is gone from the platform, so it is written to the
inbox before anything else happens to it. 408 means nothing arrived; network trouble is
retried with growing pauses; one odd update never stops the loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from bot.channels.inbox import Inbox
from bot.channels.zalo import CHANNEL, message_key
from bot.channels.zalo_api import ZaloClient, ZaloError

log = logging.getLogger(__name__)

LONG_POLL_SECONDS = 30
MAX_BACKOFF = 30.0


class ZaloTokenRefused(Exception):
    """The platform answered 401: polling cannot go on with this token."""


class ZaloPoller:
    """Fetches updates with getUpdates and files them in the inbox."""

    def __init__(self, client: ZaloClient, inbox: Inbox, wake: Callable[[], None]) -> None:
        self._client = client
        self._inbox = inbox
        self._wake = wake

    async def run(self) -> None:
        """Poll until cancelled."""
        failures = 0
        while True:
            try:
                await self.poll_once()
                failures = 0
            except asyncio.CancelledError:
                raise
            except ZaloError as exc:
                if exc.error_code == 401:
                    raise ZaloTokenRefused from None
                failures += 1
                pause = min(2.0 ** (failures - 1), MAX_BACKOFF)
                log.warning("zalo: getUpdates failed (%s); retrying in %.0fs", exc, pause)
                await asyncio.sleep(pause)

    async def poll_once(self) -> bool:
        """One getUpdates; True if an update was stored."""
        update = await self._client.get_update(LONG_POLL_SECONDS)
        if update is None:
            return False
        try:
            key, body = message_key(update)
        except (KeyError, TypeError, ValueError):
            log.warning("zalo: ignoring an update without a message id")
            return False
        stored = await asyncio.to_thread(self._inbox.add, CHANNEL, key, body)
        if stored:
            self._wake()
        return stored
