"""SQLite writers of one process take turns in Python (storage/sqlite_writer_lock.py).

With SQLite's busy wait set to zero, two connections writing at once fail with "database is
locked" unless something queues them: the writer lock does, so every write lands, and a
transaction that fails gives the lock back.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine

from storage.db import make_engine
from storage.sqlite_writer_lock import _writes

WRITERS = 8
ROWS_EACH = 40


def _impatient(engine: Engine) -> Engine:
    """No busy waiting at all: a writer that finds the lock taken fails at once."""

    @event.listens_for(engine, "connect")
    def _no_wait(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout=0")

    return engine


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = _impatient(make_engine(f"sqlite:///{tmp_path / 'w.db'}"))
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (writer INTEGER, n INTEGER)")
    return engine


def _write_rows(engine: Engine, writer: int) -> None:
    for n in range(ROWS_EACH):
        with engine.begin() as connection:
            # Write first, as every step of the service does (a read first could meet a newer
            # commit, which SQLite refuses whatever the waiting), then read in the same lock.
            connection.execute(
                sa.text("INSERT INTO t (writer, n) VALUES (:w, :n)"), {"w": writer, "n": n}
            )
            connection.exec_driver_sql("SELECT count(*) FROM t").scalar()


def test_concurrent_writers_of_one_process_all_land(engine: Engine) -> None:
    with ThreadPoolExecutor(WRITERS) as pool:
        list(pool.map(lambda w: _write_rows(engine, w), range(WRITERS)))
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM t").scalar() == WRITERS * ROWS_EACH


def test_without_the_lock_the_same_writers_collide(tmp_path: Path) -> None:
    """The control: plain SQLAlchemy on the same file and settings does fail."""
    url = f"sqlite:///{tmp_path / 'plain.db'}"
    plain = _impatient(sa.create_engine(url, connect_args={"check_same_thread": False}))

    @event.listens_for(plain, "connect")
    def _wal(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA journal_mode=WAL")

    @event.listens_for(plain, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN")

    with plain.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (writer INTEGER, n INTEGER)")
    with (
        pytest.raises(sa.exc.OperationalError, match="locked"),
        ThreadPoolExecutor(WRITERS) as pool,
    ):
        list(pool.map(lambda w: _write_rows(plain, w), range(WRITERS)))


def test_a_failed_write_gives_the_lock_back(engine: Engine) -> None:
    with pytest.raises(sa.exc.OperationalError), engine.begin() as connection:
        connection.exec_driver_sql("INSERT INTO t (writer, n) VALUES (1, 1)")
        connection.exec_driver_sql("INSERT INTO no_such_table VALUES (1)")
    # Another thread can write straight away (a leaked lock would block it forever).
    done = threading.Event()

    def write() -> None:
        _write_rows(engine, 2)
        done.set()

    threading.Thread(target=write, daemon=True).start()
    assert done.wait(10), "the writer lock was not given back after a failed transaction"
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM t").scalar() == ROWS_EACH


def test_readers_do_not_take_the_lock(engine: Engine) -> None:
    """A long read in one thread never delays a writer in another (WAL)."""
    with engine.connect() as reader:
        reader.exec_driver_sql("SELECT count(*) FROM t").scalar()  # read transaction open
        done = threading.Event()
        threading.Thread(target=lambda: (_write_rows(engine, 3), done.set()), daemon=True).start()
        assert done.wait(10)


@pytest.mark.parametrize(
    ("statement", "writes"),
    [
        ("SELECT 1", False),
        ("  select * from t", False),
        ("BEGIN", False),
        ("BEGIN IMMEDIATE", True),
        ("INSERT INTO t VALUES (1)", True),
        ("update t set n = 1", True),
        ("DELETE FROM t", True),
        ("CREATE TABLE x (a)", True),
        ("", False),
    ],
)
def test_which_statements_take_the_write_lock(statement: str, writes: bool) -> None:
    assert _writes(statement) is writes
