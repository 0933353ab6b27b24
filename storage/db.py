"""Database engines for SQLite and PostgreSQL, Alembic migrations, and a session helper."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlmodel import Session

from storage.models import dump_json
from storage.sqlite_writer_lock import serialise_writers

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# How long a SQLite connection waits for another's write lock before giving up.
_SQLITE_BUSY_SECONDS = 5
# Any constant shared by every worker will do: it only serialises concurrent `migrate` calls.
_MIGRATION_LOCK_ID = 0x686F6376  # "hocv"
# Alembic's `context` and `op` are process-wide proxies: one command at a time per process.
_ALEMBIC_LOCK = threading.Lock()


def normalise_url(url: str | URL) -> URL:
    """Parse a database URL, sending every PostgreSQL URL to the psycopg (v3) driver."""
    parsed = make_url(url)
    backend, _, driver = parsed.drivername.partition("+")
    # Heroku-style `postgres://` and driverless `postgresql://` would otherwise pick psycopg2,
    # which is not installed.
    if backend in ("postgres", "postgresql") and driver in ("", "psycopg2"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def make_engine(url: str | URL) -> Engine:
    """Create an engine for a SQLite file or a PostgreSQL server, tuned for several workers."""
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    return sa.create_engine(parsed, pool_pre_ping=True, json_serializer=dump_json)


def _sqlite_engine(url: URL) -> Engine:
    database = url.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(
        url,
        connect_args={"timeout": _SQLITE_BUSY_SECONDS, "check_same_thread": False},
        json_serializer=dump_json,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from sqlite3, which never BEGINs before a SELECT or
        # DDL; SQLAlchemy's begin hook below emits BEGIN itself (the documented recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            # busy_timeout first, so switching to WAL waits for a concurrent connection.
            cursor.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_SECONDS * 1000}")
            _switch_to_wal(cursor)
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # IMMEDIATE takes the write lock up front for transactions that read before writing
        # (migrations); ordinary ones stay DEFERRED so readers never block on writers.
        immediate = connection.get_execution_options().get("sqlite_immediate", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    serialise_writers(engine)
    return engine


def _switch_to_wal(cursor: sqlite3.Cursor) -> None:
    # Converting a new database to WAL escalates a shared lock to an exclusive one, and SQLite
    # answers "locked" at once rather than risk a deadlock, ignoring busy_timeout. That only
    # happens while workers race to open a brand-new file, so a short retry settles it.
    deadline = time.monotonic() + _SQLITE_BUSY_SECONDS
    pause = 0.005
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.1)


def alembic_config(connection: Connection | None = None) -> Config:
    """Return an Alembic config for the packaged migrations, optionally bound to a connection."""
    config = Config()
    # ConfigParser interpolates '%', which may appear in an install path.
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def migrate(engine: Engine) -> None:
    """Upgrade the database to the newest schema; harmless when it is already there."""
    immediate = engine.execution_options(sqlite_immediate=True)
    with _ALEMBIC_LOCK, immediate.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Several workers may start at once; the others wait, then find nothing to do.
            # (On SQLite, BEGIN IMMEDIATE does the same.)
            connection.execute(
                sa.text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATION_LOCK_ID}
            )
        command.upgrade(alembic_config(connection), "head")


@contextmanager
def session(engine: Engine) -> Iterator[Session]:
    """Yield a SQLModel session in a transaction: committed on success, rolled back on error."""
    # expire_on_commit=False keeps loaded objects readable after the block ends.
    with Session(engine, expire_on_commit=False) as db_session, db_session.begin():
        yield db_session
