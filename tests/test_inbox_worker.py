"""The inbox worker as a pipeline, on a real inbox (SQLite and PostgreSQL).

What a learner would notice: a message is answered at once (no wait for a poll), one chat's
messages are answered in the order sent, one slow chat never holds up another, a failure is
retried, nothing is lost when the worker stops half-way or is full.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from bot.channels.inbox import InboxWorker
from storage.inbox import SqlInbox

pytestmark = pytest.mark.asyncio

_table = SQLModel.metadata.tables["inbox_update"]


def _status(inbox: SqlInbox) -> dict[str, str]:
    """update_key -> status of every stored update."""
    with inbox.engine.connect() as connection:
        rows = connection.execute(sa.select(_table.c.update_key, _table.c.status)).all()
    return {key: status for key, status in rows}


def _update(key: str, chat: int) -> dict[str, Any]:
    return {"key": key, "chat": chat}


def _chat(payload: dict[str, Any]) -> str:
    return str(payload["chat"])


async def _until(predicate: Any, timeout: float = 10.0) -> None:
    """Poll with a deadline (no fixed sleeps)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not met before the deadline")
        await asyncio.sleep(0.005)


class Recorder:
    """A channel's processor: records what it ran, can be held per chat or made to fail."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.started: list[str] = []
        self.gates: dict[int, asyncio.Event] = {}
        self.fail_once: set[str] = set()

    async def __call__(self, payload: dict[str, Any]) -> None:
        self.started.append(payload["key"])
        gate = self.gates.get(payload["chat"])
        if gate is not None:
            await gate.wait()
        if payload["key"] in self.fail_once:
            self.fail_once.discard(payload["key"])
            raise RuntimeError("platform trouble")
        await asyncio.sleep(0)  # let other chats interleave
        self.seen.append(payload["key"])


@contextlib.asynccontextmanager
async def running(worker: InboxWorker) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(worker.run())
    await _until(lambda: worker._running)
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@pytest.fixture
def inbox(migrated_engine: Engine) -> SqlInbox:
    return SqlInbox(migrated_engine)


async def test_a_received_update_is_processed_at_once_and_marked_done(inbox: SqlInbox) -> None:
    recorder = Recorder()
    # A long idle tick: only the direct hand-over can explain a prompt answer.
    worker = InboxWorker(inbox, {"t": (recorder, _chat)}, idle_wait=60.0)
    async with running(worker):
        assert await worker.receive("t", "1", _update("1", 7))
        await _until(lambda: recorder.seen == ["1"], timeout=5.0)
        await worker.drain()
    assert _status(inbox) == {"1": "done"}


async def test_a_redelivered_update_is_not_processed_twice(inbox: SqlInbox) -> None:
    recorder = Recorder()
    worker = InboxWorker(inbox, {"t": (recorder, _chat)})
    async with running(worker):
        assert await worker.receive("t", "1", _update("1", 7))
        assert not await worker.receive("t", "1", _update("1", 7))
        await worker.drain()
    assert recorder.seen == ["1"]


async def test_one_chats_updates_run_in_order_and_a_slow_chat_holds_up_no_one(
    inbox: SqlInbox,
) -> None:
    recorder = Recorder()
    recorder.gates[1] = asyncio.Event()  # chat 1 is slow (its platform call hangs)
    worker = InboxWorker(inbox, {"t": (recorder, _chat)})
    async with running(worker):
        for n in range(5):
            await worker.receive("t", f"a{n}", _update(f"a{n}", 1))
            await worker.receive("t", f"b{n}", _update(f"b{n}", 2))
        await _until(
            lambda: [k for k in recorder.seen if k.startswith("b")] == [f"b{n}" for n in range(5)]
        )
        assert recorder.started.count("a0") == 1
        assert not [k for k in recorder.seen if k.startswith("a")]  # still held
        recorder.gates[1].set()
        await worker.drain()
    assert [k for k in recorder.seen if k.startswith("a")] == [f"a{n}" for n in range(5)]
    assert set(_status(inbox).values()) == {"done"}


async def test_a_failed_update_is_retried_and_the_chat_goes_on(inbox: SqlInbox) -> None:
    recorder = Recorder()
    recorder.fail_once.add("1")
    worker = InboxWorker(inbox, {"t": (recorder, _chat)}, idle_wait=0.05)
    async with running(worker):
        await worker.receive("t", "1", _update("1", 7))
        await worker.receive("t", "2", _update("2", 7))
        await _until(lambda: "2" in recorder.seen)
        assert _status(inbox)["1"] == "pending"  # waiting for its retry (1 s backoff)
        await _until(lambda: "1" in recorder.seen, timeout=10.0)
        await worker.drain()
    assert _status(inbox) == {"1": "done", "2": "done"}
    assert recorder.seen == ["2", "1"]


async def test_a_full_worker_leaves_updates_in_the_inbox_and_takes_them_when_room_frees(
    inbox: SqlInbox,
) -> None:
    recorder = Recorder()
    recorder.gates[1] = asyncio.Event()
    worker = InboxWorker(inbox, {"t": (recorder, _chat)}, capacity=2, idle_wait=60.0)
    async with running(worker):
        await worker.receive("t", "1", _update("1", 1))
        await worker.receive("t", "2", _update("2", 1))
        assert worker.held == 2
        # Full: stored, not held in memory; the claim loop takes it once there is room.
        assert await worker.receive("t", "3", _update("3", 2))
        assert worker.held == 2
        assert _status(inbox)["3"] == "pending"
        recorder.gates[1].set()
        await _until(lambda: "3" in recorder.seen, timeout=5.0)
        await worker.drain()
    assert sorted(recorder.seen) == ["1", "2", "3"]
    assert set(_status(inbox).values()) == {"done"}


async def test_updates_a_stopped_worker_held_come_back_after_their_lease(
    inbox: SqlInbox,
) -> None:
    first = Recorder()
    first.gates[1] = asyncio.Event()  # never opened: the process "dies" mid-update
    worker = InboxWorker(inbox, {"t": (first, _chat)}, lease_seconds=1.0)
    async with running(worker):
        await worker.receive("t", "1", _update("1", 1))
        await worker.receive("t", "2", _update("2", 1))
        await _until(lambda: first.started == ["1"])
    assert first.seen == []
    assert set(_status(inbox).values()) == {"pending"}

    second = Recorder()
    successor = InboxWorker(inbox, {"t": (second, _chat)}, idle_wait=0.05, lease_seconds=1.0)
    async with running(successor):
        await _until(lambda: second.seen == ["1", "2"], timeout=10.0)
        await successor.drain()
    assert _status(inbox) == {"1": "done", "2": "done"}


async def test_a_worker_that_is_not_running_only_stores(inbox: SqlInbox) -> None:
    recorder = Recorder()
    worker = InboxWorker(inbox, {"t": (recorder, _chat)})
    assert await worker.receive("t", "1", _update("1", 1))
    assert worker.held == 0
    assert _status(inbox) == {"1": "pending"}
    assert [item.update_key for item in inbox.claim_due(10)] == ["1"]  # due for anyone


async def test_many_chats_at_once_are_all_answered_and_marked_done_in_batches(
    inbox: SqlInbox,
) -> None:
    recorder = Recorder()
    worker = InboxWorker(inbox, {"t": (recorder, _chat)})
    batches: list[int] = []
    done_many = inbox.done_many

    def counting(ids: Any) -> None:
        batches.append(len(ids))
        done_many(ids)

    inbox.done_many = counting  # type: ignore[method-assign]
    async with running(worker):
        await asyncio.gather(
            *(worker.receive("t", str(n), _update(str(n), n % 40)) for n in range(200))
        )
        await worker.drain()
    assert sorted(recorder.seen, key=int) == [str(n) for n in range(200)]
    assert set(_status(inbox).values()) == {"done"}
    assert sum(batches) == 200
    assert len(batches) < 200  # several finished updates share a transaction
