"""Processing platform updates from the durable inbox: at least once, in order per chat.

Webhooks and pollers store each raw update in the inbox before acknowledging it; this
worker takes due updates, hands each to its channel, and marks it done. An update whose
processing fails stays in the inbox and is retried with backoff; the engine's per-update
record (`Changes.update_id`) makes a retry harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

log = logging.getLogger(__name__)

Process = Callable[[dict[str, Any]], Awaitable[None]]
ChatOf = Callable[[dict[str, Any]], str]


class Inbox(Protocol):
    """The durable store the worker drains (`storage.inbox.SqlInbox`)."""

    def add(self, channel: str, update_key: str, payload: Mapping[str, Any]) -> bool:
        """Store an update; False if it was already there."""
        ...

    def claim_due(
        self, limit: int = 20, lease_seconds: float = 60.0, channel: str | None = None
    ) -> list[Any]:
        """Take due updates for a while."""
        ...

    def done(self, item_id: int) -> None:
        """Mark an update processed."""
        ...

    def failed(self, item_id: int, error: str, retry_in: float, max_attempts: int = 8) -> None:
        """Record a failure and when to try again."""
        ...

    def next_due_in(self) -> float | None:
        """Seconds until the next pending update is due, or None."""
        ...


def backoff(attempts: int) -> float:
    """Seconds to wait before the next try: 1, 2, 4, ... capped at five minutes."""
    return float(min(2 ** max(attempts, 0), 300))


class InboxWorker:
    """Drains the inbox: one task per chat, so one slow learner never blocks the others."""

    def __init__(
        self,
        inbox: Inbox,
        processors: Mapping[str, tuple[Process, ChatOf]],
        *,
        idle_wait: float = 1.0,
        batch: int = 50,
        max_attempts: int = 8,
        lease_seconds: float = 60.0,
    ) -> None:
        self._inbox = inbox
        self._processors = dict(processors)
        self._idle_wait = idle_wait
        self._batch = batch
        self._lease_seconds = lease_seconds
        self._max_attempts = max_attempts
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Something was just stored: look now rather than at the next tick."""
        self._wake.set()

    async def run(self) -> None:
        """Process due updates until cancelled."""
        while True:
            try:
                worked = await self.drain_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database may be briefly away; never let the loop die
                log.exception("inbox worker: could not read the inbox")
                worked = 0
            if not worked:
                await self._sleep()

    async def drain_once(self) -> int:
        """Claim one batch and process it; returns how many updates were taken."""
        items = await asyncio.to_thread(self._inbox.claim_due, self._batch, self._lease_seconds)
        by_chat: dict[tuple[str, str], list[Any]] = {}
        for item in items:
            processor = self._processors.get(item.channel)
            if processor is None:
                await asyncio.to_thread(self._inbox.failed, item.id, "no such channel", 3600.0)
                continue
            chat = _safe_chat(processor[1], item.payload)
            by_chat.setdefault((item.channel, chat), []).append(item)
        await asyncio.gather(*(self._process_chat(queue) for queue in by_chat.values()))
        return len(items)

    async def _process_chat(self, queue: list[Any]) -> None:
        """One chat's updates, strictly in order."""
        for item in queue:
            process = self._processors[item.channel][0]
            try:
                await process(item.payload)
            except Exception as exc:
                retry_in = backoff(item.attempts)
                log.warning(
                    "inbox: %s update %s failed (attempt %d), retry in %.0fs: %s",
                    item.channel,
                    item.id,
                    item.attempts + 1,
                    retry_in,
                    type(exc).__name__,
                )
                await asyncio.to_thread(
                    self._inbox.failed, item.id, repr(exc)[:500], retry_in, self._max_attempts
                )
            else:
                await asyncio.to_thread(self._inbox.done, item.id)

    async def _sleep(self) -> None:
        """Wait for a wake-up, the next due retry, or the idle tick, whichever comes first."""
        due = await asyncio.to_thread(self._inbox.next_due_in)
        wait = self._idle_wait if due is None else min(self._idle_wait, max(due, 0.01))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=wait)
        self._wake.clear()


def _safe_chat(chat_of: ChatOf, payload: dict[str, Any]) -> str:
    """The chat an update belongs to; odd updates form their own queue."""
    try:
        return chat_of(payload)
    except Exception:
        return "?"
