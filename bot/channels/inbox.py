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
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

log = logging.getLogger(__name__)

Process = Callable[[dict[str, Any]], Awaitable[None]]
ChatOf = Callable[[dict[str, Any]], str]


class Inbox(Protocol):
    """The durable store the worker drains (`storage.inbox.SqlInbox`)."""

    def add(self, channel: str, update_key: str, payload: Mapping[str, Any]) -> bool:
        """Store an update; False if it was already there."""
        ...

    def add_claimed(
        self, channel: str, update_key: str, payload: Mapping[str, Any], lease_seconds: float
    ) -> Any | None:
        """Store an update leased to the caller; None if it was already there."""
        ...

    def claim_due(
        self, limit: int = 20, lease_seconds: float = 60.0, channel: str | None = None
    ) -> list[Any]:
        """Take due updates for a while."""
        ...

    def done_many(self, item_ids: Sequence[int]) -> None:
        """Mark updates processed."""
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
    """Drains the inbox as a pipeline: one queue per chat, many chats at once.

    Updates reach it two ways. `receive` (webhooks) stores a new update already leased to
    this worker and queues it at once, so nothing waits for a poll. The claim loop takes
    whatever else is due (retries, long-polled updates, items another process left behind
    when it died) whenever there is room. Each chat's updates run strictly in order and one
    slow chat never holds up the others. Finished items are marked done in batches; an item
    finished but not yet marked when the process dies comes back after its lease, and the
    engine's per-update record (`applied_update`) makes the second run harmless.
    """

    def __init__(
        self,
        inbox: Inbox,
        processors: Mapping[str, tuple[Process, ChatOf]],
        *,
        idle_wait: float = 1.0,
        capacity: int = 500,
        max_attempts: int = 8,
        lease_seconds: float = 60.0,
    ) -> None:
        self._inbox = inbox
        self._processors = dict(processors)
        self._idle_wait = idle_wait
        # Updates held in memory (queued or running) at most; beyond it they wait in the
        # database, so a burst cannot grow the process without bound.
        self._capacity = capacity
        self._lease_seconds = lease_seconds
        self._max_attempts = max_attempts
        self._wake = asyncio.Event()
        self._running = False
        self._held: set[int] = set()
        self._starved = False
        self._queues: dict[tuple[str, str], deque[Any]] = {}
        self._chat_tasks: set[asyncio.Task[None]] = set()
        self._finished: list[int] = []
        self._marking: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """Something was just stored: look now rather than at the next tick."""
        self._wake.set()

    @property
    def held(self) -> int:
        """How many updates this worker holds in memory (queued, running or being marked)."""
        return len(self._held)

    async def receive(self, channel: str, update_key: str, payload: dict[str, Any]) -> bool:
        """Store a new update and, if this worker runs and has room, queue it at once.

        Returns False if the update was stored before (a redelivery): nothing is queued.
        """
        if not self._running or channel not in self._processors or self._full():
            stored = await asyncio.to_thread(self._inbox.add, channel, update_key, payload)
            if stored:
                self.wake()
            return stored
        item = await asyncio.to_thread(
            self._inbox.add_claimed, channel, update_key, payload, self._lease_seconds
        )
        if item is None:
            return False
        self._queue(item)
        return True

    async def run(self) -> None:
        """Claim due updates whenever there is room, until cancelled."""
        self._running = True
        try:
            while True:
                try:
                    taken = await self.claim_once()
                except asyncio.CancelledError:
                    raise
                except Exception:  # the database may be briefly away; never let the loop die
                    log.exception("inbox worker: could not read the inbox")
                    taken = 0
                if not taken:
                    await self._sleep()
        finally:
            self._running = False
            for task in list(self._chat_tasks):
                task.cancel()
            await asyncio.gather(*self._chat_tasks, return_exceptions=True)
            if self._marking is not None:
                await asyncio.gather(self._marking, return_exceptions=True)

    async def claim_once(self) -> int:
        """Claim due updates up to the room left and queue them; returns how many were new."""
        room = self._capacity - len(self._held)
        if room <= 0:
            self._starved = True
            return 0
        items = await asyncio.to_thread(self._inbox.claim_due, room, self._lease_seconds)
        new = 0
        for item in items:
            if item.id in self._held:  # queued here for longer than its lease
                continue
            if item.channel not in self._processors:
                await asyncio.to_thread(self._inbox.failed, item.id, "no such channel", 3600.0)
                continue
            self._queue(item)
            new += 1
        return new

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait until everything queued has been processed and marked (tests, shutdown)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._held:
            if loop.time() > deadline:
                raise TimeoutError(f"{len(self._held)} inbox updates still held")
            await asyncio.sleep(0.005)

    def _full(self) -> bool:
        return len(self._held) >= self._capacity

    def _queue(self, item: Any) -> None:
        """Put an item behind its chat's earlier ones; start the chat's runner if idle."""
        self._held.add(item.id)
        chat = (item.channel, _safe_chat(self._processors[item.channel][1], item.payload))
        queue = self._queues.get(chat)
        if queue is not None:
            queue.append(item)
            return
        self._queues[chat] = deque([item])
        task = asyncio.create_task(self._run_chat(chat), name=f"inbox-{chat[0]}")
        self._chat_tasks.add(task)
        task.add_done_callback(self._chat_tasks.discard)

    async def _run_chat(self, chat: tuple[str, str]) -> None:
        """One chat's updates, strictly in order, until its queue is empty."""
        queue = self._queues[chat]
        try:
            while queue:
                await self._process(queue[0])
                queue.popleft()
        finally:
            del self._queues[chat]
            # Left unprocessed (shutting down): their leases bring them back.
            self._release(item.id for item in queue)

    async def _process(self, item: Any) -> None:
        """Run one update; report it done (in a batch) or failed (with its retry time)."""
        process = self._processors[item.channel][0]
        try:
            await process(item.payload)
        except asyncio.CancelledError:
            raise
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
            try:
                await asyncio.to_thread(
                    self._inbox.failed, item.id, repr(exc)[:500], retry_in, self._max_attempts
                )
            except Exception:
                # Not recorded: the item comes back when its lease ends, as after a crash.
                log.exception("inbox worker: could not record a failed update")
            self._release([item.id])
        else:
            self._finished.append(item.id)
            if self._marking is None:
                self._marking = asyncio.create_task(self._mark_done(), name="inbox-done")

    async def _mark_done(self) -> None:
        """Mark finished items done, many per transaction, while more keep finishing."""
        try:
            while self._finished:
                batch, self._finished = self._finished, []
                try:
                    await asyncio.to_thread(self._inbox.done_many, batch)
                except Exception:
                    # Not marked: the items come back after their lease and the engine
                    # recognises them as applied.
                    log.exception("inbox worker: could not mark %d updates done", len(batch))
                finally:
                    self._release(batch)
        finally:
            self._marking = None

    def _release(self, item_ids: Iterable[int]) -> None:
        """Forget items this worker held; if the claim loop was waiting for room, wake it."""
        self._held.difference_update(item_ids)
        if self._starved and not self._full():
            self._starved = False
            self.wake()

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
