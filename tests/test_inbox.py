"""The inbox of platform updates, on SQLite and PostgreSQL (fixture `migrated_engine`)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from storage.inbox import InboxItem, SqlInbox
from storage.models import LAST_ERROR_MAX, utcnow

UPDATE = {"update_id": 1, "message": {"text": "/start", "chat": {"id": 42}}}


@pytest.fixture
def inbox(migrated_engine: Engine) -> SqlInbox:
    """An empty inbox on each SQL backend."""
    return SqlInbox(migrated_engine)


def _rows(inbox: SqlInbox) -> list[Any]:
    table = SQLModel.metadata.tables["inbox_update"]
    with inbox.engine.connect() as connection:
        return list(connection.execute(sa.select(table).order_by(table.c.id)).all())


def _add(inbox: SqlInbox, *keys: str, channel: str = "telegram") -> None:
    for key in keys:
        assert inbox.add(channel, key, {"update_id": key})


def _keys(items: list[InboxItem]) -> list[str]:
    return [item.update_key for item in items]


def test_a_redelivered_update_is_stored_once(inbox: SqlInbox) -> None:
    assert inbox.add("telegram", "1001", UPDATE) is True
    assert inbox.add("telegram", "1001", {"update_id": 1001, "other": "body"}) is False

    rows = _rows(inbox)
    assert len(rows) == 1
    assert rows[0].status == "pending"
    assert rows[0].attempts == 0
    assert rows[0].processed_at is None
    assert rows[0].last_error is None
    # The first delivery is the one kept.
    assert [item.payload for item in inbox.claim_due()] == [UPDATE]


def test_the_same_key_on_another_channel_is_another_update(inbox: SqlInbox) -> None:
    assert inbox.add("telegram", "777", UPDATE)
    assert inbox.add("zalo", "777", UPDATE)

    assert inbox.counts() == {"pending": 2, "done": 0, "dead": 0}


def test_concurrent_deliveries_of_one_update_store_it_once(inbox: SqlInbox) -> None:
    workers = 8
    barrier = threading.Barrier(workers, timeout=30)

    def deliver(worker: int) -> bool:
        barrier.wait()
        return inbox.add("telegram", "5005", {"worker": worker})

    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(deliver, range(workers)))

    assert results.count(True) == 1
    assert len(_rows(inbox)) == 1


# Each process imports first, says "ready", then adds the same keys when told "go".
_ADDER = """
import sys
from storage.db import make_engine
from storage.inbox import SqlInbox
inbox = SqlInbox(make_engine(sys.argv[1]))
print("ready", flush=True)
sys.stdin.readline()
print(sum(inbox.add("zalo", f"msg-{n}", {"n": n}) for n in range(int(sys.argv[2]))), flush=True)
"""


def test_processes_adding_the_same_updates_store_each_once(inbox: SqlInbox) -> None:
    keys = 30
    url = inbox.engine.url.render_as_string(hide_password=False)
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(root), *sys.path]))}
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _ADDER, url, str(keys)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=root,
            env=env,
        )
        for _ in range(3)
    ]
    for process in processes:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready"
    for process in processes:
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()

    outputs = [process.communicate(timeout=60) for process in processes]

    assert [process.returncode for process in processes] == [0, 0, 0], outputs
    assert sum(int(stdout) for stdout, _ in outputs) == keys
    assert inbox.counts()["pending"] == keys


def test_due_items_are_claimed_once_oldest_first(inbox: SqlInbox) -> None:
    _add(inbox, "30", "10", "20")

    first = inbox.claim_due(limit=2)
    second = inbox.claim_due()

    assert _keys(first) == ["30", "10"]
    assert [item.attempts for item in first] == [0, 0]
    assert [item.channel for item in first] == ["telegram", "telegram"]
    assert _keys(second) == ["20"]
    assert inbox.claim_due() == []


def test_claim_can_be_limited_to_one_channel(inbox: SqlInbox) -> None:
    _add(inbox, "1", "2", channel="telegram")
    _add(inbox, "m1", channel="zalo")

    assert _keys(inbox.claim_due(channel="zalo")) == ["m1"]
    assert _keys(inbox.claim_due(channel="zalo")) == []
    assert _keys(inbox.claim_due()) == ["1", "2"]


def test_a_zero_limit_claims_nothing(inbox: SqlInbox) -> None:
    _add(inbox, "1")

    assert inbox.claim_due(limit=0) == []
    assert _keys(inbox.claim_due()) == ["1"]


def test_done_items_never_come_back(inbox: SqlInbox) -> None:
    _add(inbox, "1", "2")
    first, second = inbox.claim_due(lease_seconds=0)

    inbox.done(first.id)

    assert _keys(inbox.claim_due(lease_seconds=0)) == ["2"]
    inbox.done(second.id)
    assert inbox.claim_due(lease_seconds=0) == []
    assert inbox.counts() == {"pending": 0, "done": 2, "dead": 0}
    assert all(row.processed_at is not None for row in _rows(inbox))
    # The raw update (the sender's name and words) is not kept once its step is written.
    assert all(row.payload == "{}" for row in _rows(inbox))


def test_an_item_whose_lease_ended_comes_back(inbox: SqlInbox) -> None:
    # A worker that claimed with no lease (or crashed and let the lease run out).
    _add(inbox, "1")
    claimed = inbox.claim_due(lease_seconds=0)

    again = inbox.claim_due(lease_seconds=60)

    assert _keys(claimed) == _keys(again) == ["1"]
    assert again[0].id == claimed[0].id
    assert inbox.claim_due() == []


def test_a_failed_item_comes_back_after_retry_in(inbox: SqlInbox) -> None:
    _add(inbox, "1")
    (item,) = inbox.claim_due()

    inbox.failed(item.id, "timeout talking to Telegram", retry_in=0)

    (again,) = inbox.claim_due()
    assert again.id == item.id
    assert again.attempts == 1
    assert _rows(inbox)[0].last_error == "timeout talking to Telegram"
    assert _rows(inbox)[0].status == "pending"


def test_a_failed_item_waits_for_retry_in(inbox: SqlInbox) -> None:
    _add(inbox, "1", "2")
    first, _ = inbox.claim_due(lease_seconds=0)

    inbox.failed(first.id, "flood limit", retry_in=3600)

    assert _keys(inbox.claim_due()) == ["2"]
    assert inbox.claim_due() == []
    assert inbox.counts() == {"pending": 2, "done": 0, "dead": 0}


def test_an_item_dies_after_max_attempts(inbox: SqlInbox) -> None:
    _add(inbox, "1")

    for attempt in range(3):
        (item,) = inbox.claim_due()
        assert item.attempts == attempt
        inbox.failed(item.id, f"failure {attempt}", retry_in=0, max_attempts=3)

    assert inbox.claim_due(lease_seconds=0) == []
    assert inbox.counts() == {"pending": 0, "done": 0, "dead": 1}
    (row,) = _rows(inbox)
    assert row.attempts == 3
    assert row.last_error == "failure 2"
    assert row.processed_at is not None
    assert inbox.next_due_in() is None


def test_a_late_failure_report_does_not_revive_a_done_item(inbox: SqlInbox) -> None:
    # Worker A's lease ran out, worker B took the item and finished it, then A reports.
    _add(inbox, "1")
    (item,) = inbox.claim_due(lease_seconds=0)
    (taken,) = inbox.claim_due()
    inbox.done(taken.id)

    inbox.failed(item.id, "too late", retry_in=0)

    assert inbox.claim_due(lease_seconds=0) == []
    assert inbox.counts() == {"pending": 0, "done": 1, "dead": 0}


def test_errors_are_cut_and_made_storable(inbox: SqlInbox) -> None:
    _add(inbox, "1")
    (item,) = inbox.claim_due()

    inbox.failed(item.id, "lỗi\x00" + "ê" * (LAST_ERROR_MAX * 2), retry_in=0)

    error = _rows(inbox)[0].last_error
    assert error == ("lỗi" + "ê" * LAST_ERROR_MAX)[:LAST_ERROR_MAX]


def test_concurrent_claims_never_share_an_item(inbox: SqlInbox) -> None:
    items = 120
    workers = 6
    for n in range(items):
        assert inbox.add("telegram", str(n), {"n": n})
    barrier = threading.Barrier(workers, timeout=30)

    def work(_: int) -> list[int]:
        claimed: list[int] = []
        barrier.wait()
        while batch := inbox.claim_due(limit=3):
            claimed.extend(item.id for item in batch)
        return claimed

    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(work, range(workers)))

    every = [item_id for claimed in results for item_id in claimed]
    assert len(every) == items
    assert len(set(every)) == items
    assert inbox.claim_due() == []


PAYLOAD = {
    "update_id": 8_000_001,
    "message": {
        "text": "Cháu ơi, bà muốn học cài VNeID mức 2 👵🏻📱 ạ!",
        "from": {"id": 12345, "first_name": "Đào", "is_bot": False},
        "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        "family": "👨‍👩‍👧",
        "nul": "a\x00b",
        # A lone surrogate, as JSON input like "\\ud83d" produces.
        "broken": "x\ud83dy",
        "nested": {"list": [1, 2.5, None, True, {"đ": []}], "empty": {}},
    },
}


def test_payload_comes_back_as_stored(inbox: SqlInbox) -> None:
    assert inbox.add("telegram", "8000001", PAYLOAD)

    (item,) = inbox.claim_due()

    assert item.payload == PAYLOAD
    assert type(item.payload) is dict
    (row,) = _rows(inbox)
    assert "\x00" not in row.payload


def test_readable_payloads_are_stored_readably(inbox: SqlInbox) -> None:
    # An operator looking at the table should read Vietnamese, not \u escapes.
    assert inbox.add("zalo", "m1", {"text": "Học vụ số 🎉"})

    assert "Học vụ số 🎉" in _rows(inbox)[0].payload


def test_unserialisable_payload_is_refused_and_nothing_stored(inbox: SqlInbox) -> None:
    with pytest.raises(TypeError):
        inbox.add("telegram", "1", {"when": utcnow()})

    assert _rows(inbox) == []


def test_purge_done_deletes_only_old_done_items(inbox: SqlInbox) -> None:
    _add(inbox, "old", "recent", "pending", "dead")
    old, recent, _, dead = inbox.claim_due(lease_seconds=0)
    inbox.done(old.id)
    inbox.done(recent.id)
    inbox.failed(dead.id, "boom", retry_in=0, max_attempts=1)
    table = SQLModel.metadata.tables["inbox_update"]
    with inbox.engine.begin() as connection:
        connection.execute(
            sa.update(table)
            .where(table.c.id.in_([old.id, dead.id]))
            .values(processed_at=utcnow() - timedelta(days=8))
        )

    assert inbox.purge_done(timedelta(days=7)) == 1

    assert [row.update_key for row in _rows(inbox)] == ["recent", "pending", "dead"]
    assert inbox.purge_done(timedelta(days=7)) == 0


def test_next_due_in(inbox: SqlInbox) -> None:
    assert inbox.next_due_in() is None
    _add(inbox, "1")
    assert inbox.next_due_in() == 0.0

    (item,) = inbox.claim_due(lease_seconds=120)
    leased = inbox.next_due_in()
    assert leased is not None
    assert 100 < leased <= 120

    inbox.failed(item.id, "later", retry_in=30)
    retry = inbox.next_due_in()
    assert retry is not None
    assert 10 < retry <= 30

    inbox.done(item.id)
    assert inbox.next_due_in() is None
