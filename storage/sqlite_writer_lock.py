"""One SQLite writer at a time per process, queued in Python instead of SQLite's busy handler.

SQLite lets one connection write at a time. A second writer that finds the lock taken sleeps
in SQLite's busy handler, in steps of 1, 2, 5, 10, 15, 20, 25 ... 100 ms, and only then looks
again, so under load the lock sits free while writers sleep: a step that needs 1 ms of
writing waits tens. Within one process a Python lock hands the write lock over the moment it
is released instead. A connection takes this lock just before its first writing statement
and gives it back after its COMMIT or ROLLBACK; readers never take it (WAL readers do not
block writers). Other processes on the same file still meet SQLite's busy handler.
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

# The first word of a statement that takes SQLite's write lock.
_WRITES = frozenset({"INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER"})


def _writes(statement: str) -> bool:
    head = statement.lstrip()[:16].upper()
    if head.startswith("BEGIN"):
        return "IMMEDIATE" in head or "EXCLUSIVE" in head
    return head.split(None, 1)[0] in _WRITES if head else False


def _key(connection: Any) -> int:
    # SQLAlchemy hands the dialect the pool's proxy or the sqlite3 connection itself.
    return id(getattr(connection, "dbapi_connection", connection))


class WriterLock:
    """The per-engine lock and the DBAPI connections holding it."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._holders: set[int] = set()

    def take(self, connection: Any) -> None:
        """Wait until no other connection of this process is writing, then write."""
        key = _key(connection)
        if key in self._holders:
            return
        self._lock.acquire()
        self._holders.add(key)

    def give_back(self, connection: Any) -> None:
        """The connection's transaction ended: let the next writer in."""
        key = _key(connection)
        if key in self._holders:
            self._holders.discard(key)
            self._lock.release()


def serialise_writers(engine: Engine) -> WriterLock:
    """Make the engine's connections take turns to write (see the module docstring)."""
    lock = WriterLock()

    @event.listens_for(engine, "before_cursor_execute")
    def _before(connection: Any, cursor: Any, statement: str, *_args: Any, **_kwargs: Any) -> None:
        if _writes(statement):
            lock.take(connection.connection)

    dialect = engine.dialect
    commit, rollback, close = dialect.do_commit, dialect.do_rollback, dialect.do_close

    def do_commit(dbapi_connection: Any) -> None:
        try:
            commit(dbapi_connection)
        finally:
            lock.give_back(dbapi_connection)

    def do_rollback(dbapi_connection: Any) -> None:
        try:
            rollback(dbapi_connection)
        finally:
            lock.give_back(dbapi_connection)

    def do_close(dbapi_connection: Any) -> None:
        try:
            close(dbapi_connection)
        finally:
            lock.give_back(dbapi_connection)

    # The dialect object belongs to this engine alone; SQLAlchemy has no "after commit" event
    # on a Connection, and the lock must be given back only once the COMMIT has run.
    dialect.do_commit = do_commit  # type: ignore[method-assign]
    dialect.do_rollback = do_rollback  # type: ignore[method-assign]
    dialect.do_close = do_close  # type: ignore[method-assign]
    return lock
