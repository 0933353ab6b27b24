"""Backing up and restoring a SQLite database while the service may keep writing.

A backup uses SQLite's online backup API (`sqlite3.Connection.backup`) in one step: it reads
one consistent snapshot of the database, WAL included, while other connections go on writing
(in WAL mode writers never wait for readers). The copy is checked, switched to a plain
rollback journal so it is one self-contained file, and renamed into place only when complete.

A restore never touches the backup file itself: it copies it next to the live database,
checks the copy (integrity, an Alembic revision this code knows), migrates it forward, then
keeps a consistent copy of the current database aside and swaps the restored file in with one
rename. PostgreSQL is backed up with `pg_dump`/`pg_restore` (docs/operations.md).
"""

from __future__ import annotations

import contextlib
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL

from storage.db import alembic_config, make_engine, migrate, normalise_url
from storage.models import utcnow

SQLITE_MAGIC = b"SQLite format 3\x00"
BACKUP_DIR = "backups"
# How long the backup waits for a writer's lock before giving up (a step takes milliseconds).
_BUSY_MILLISECONDS = 10_000


class BackupError(Exception):
    """A backup or restore cannot go ahead; the message is one line for the operator."""


@dataclass(frozen=True, slots=True)
class RestoreResult:
    """What a restore did: the revision it found, the one it left, the old database's copy."""

    revision_found: str
    revision_now: str
    previous: Path | None


def sqlite_file(url: str | URL) -> Path | None:
    """The file of a SQLite database URL; None for any other database."""
    parsed = normalise_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database or ""
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError(f"cannot back up or restore the SQLite database {database!r}: no file")
    return Path(database).expanduser()


def timestamp(now: datetime | None = None) -> str:
    """A UTC timestamp for file names, e.g. 20260105T023000Z."""
    return f"{now or utcnow():%Y%m%dT%H%M%SZ}"


def default_backup_path(database: Path, now: datetime | None = None) -> Path:
    """`backups/<name>-<UTC timestamp>.db` next to the database, never an existing file."""
    folder = database.parent / BACKUP_DIR
    stem = f"{database.stem}-{timestamp(now)}"
    candidate = folder / f"{stem}.db"
    number = 2
    while candidate.exists():
        candidate = folder / f"{stem}-{number}.db"
        number += 1
    return candidate


def backup_sqlite(database: Path, target: Path) -> None:
    """Write a consistent, checked copy of the live database to `target` (a new file)."""
    if not database.is_file():
        raise BackupError(f"no database at {database}")
    if target.exists():
        raise BackupError(f"{target} exists already; give another file name")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        _copy_database(database, partial)
        partial.replace(target)
    except sqlite3.Error as exc:
        raise BackupError(f"backup of {database} failed: {exc}") from None
    finally:
        partial.unlink(missing_ok=True)


def _copy_database(
    source_path: Path, target_path: Path, *, read_only: bool = False, check: bool = True
) -> None:
    """Copy a database with the online backup API into a new single-file database."""
    if read_only:
        source = sqlite3.connect(f"{source_path.resolve().as_uri()}?mode=ro", uri=True)
    else:
        source = sqlite3.connect(source_path)
    try:
        source.execute(f"PRAGMA busy_timeout={_BUSY_MILLISECONDS}")
        target = sqlite3.connect(target_path)
        try:
            # pages=-1 (the default) copies everything in one step, under one read
            # transaction: a snapshot of one moment, whatever other connections write meanwhile.
            source.backup(target)
            # A plain rollback journal: the copy is one file, with no -wal or -shm beside it.
            target.execute("PRAGMA journal_mode=DELETE")
            if check:
                _check_integrity(target, target_path)
        finally:
            target.close()
    finally:
        source.close()


def _check_integrity(connection: sqlite3.Connection, path: Path) -> None:
    """Raise BackupError unless SQLite's integrity check finds nothing wrong."""
    rows = connection.execute("PRAGMA integrity_check").fetchall()
    if rows != [("ok",)]:
        raise BackupError(f"{path} is damaged: {rows[0][0]}")


def database_revision(path: Path, *, shown_as: Path | None = None) -> str:
    """The Alembic revision recorded in a SQLite file; BackupError if it is not one of ours."""
    name = shown_as or path
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        revision = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error:
        raise BackupError(
            f"{name} is not a hocvuso database (it has no alembic_version table)"
        ) from None
    finally:
        connection.close()
    if revision is None:
        raise BackupError(f"{name} is not a hocvuso database (its alembic_version is empty)")
    found = str(revision[0])
    known = {script.revision for script in _scripts().walk_revisions()}
    if found not in known:
        raise BackupError(
            f"{name} has schema revision {found!r}, unknown to this version of hocvuso;"
            " restore it with the hocvuso version that made it"
        )
    return found


def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    """The newest schema revision this code knows."""
    head = _scripts().get_current_head()
    assert head is not None, "the migrations have a single head"
    return head


def database_in_use(path: Path) -> bool:
    """Whether another connection (a running service) has the SQLite database open now."""
    if not path.exists():
        return False
    connection = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        # In WAL mode every open connection holds a shared lock on the -shm file, and an
        # EXCLUSIVE-mode connection needs it alone: so this fails while any other connection
        # is open, even an idle one in a service's pool.
        connection.execute("PRAGMA locking_mode=EXCLUSIVE")
        connection.execute("BEGIN EXCLUSIVE")
        connection.execute("SELECT count(*) FROM sqlite_master").fetchall()
        connection.execute("COMMIT")
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            return True
        raise BackupError(f"cannot open {path}: {exc}") from None
    finally:
        connection.close()
    return False


def restore_sqlite(
    backup: Path, database: Path, *, force: bool = False, now: datetime | None = None
) -> RestoreResult:
    """Replace the database with a checked, migrated copy of `backup`; keep the old one aside."""
    _check_sqlite_file(backup)
    if backup.resolve() == database.resolve():
        raise BackupError(f"{backup} is the database itself; give a backup file")
    if not force and database_in_use(database):
        raise _in_use(database)
    stamp = timestamp(now)
    database.parent.mkdir(parents=True, exist_ok=True)
    staged = database.with_name(f".{database.name}.restoring-{stamp}")
    try:
        try:
            _copy_database(backup, staged, read_only=True, check=False)
            with contextlib.closing(sqlite3.connect(staged)) as connection:
                _check_integrity(connection, backup)
        except sqlite3.Error as exc:
            raise BackupError(f"{backup} is damaged: {exc}") from None
        found = database_revision(staged, shown_as=backup)
        engine = make_engine(f"sqlite:///{staged}")
        try:
            migrate(engine)
        finally:
            # Closing the last connection checkpoints the WAL into the file and removes it.
            engine.dispose()
        previous = _set_aside(database, stamp, force=force)
        # One rename: the database path holds the old file or the new one, never neither.
        staged.replace(database)
        # A -wal or -shm left belongs to the old file; replayed onto the new one it would
        # corrupt it. (None is left when the service was stopped cleanly.)
        for suffix in ("-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
    finally:
        for leftover in (staged, Path(f"{staged}-wal"), Path(f"{staged}-shm")):
            leftover.unlink(missing_ok=True)
    return RestoreResult(found, head_revision(), previous)


def _check_sqlite_file(path: Path) -> None:
    """Refuse at once a path that is missing or not a SQLite database at all."""
    try:
        with path.open("rb") as file:
            header = file.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise BackupError(f"cannot read {path}: {exc.strerror or exc}") from None
    if header != SQLITE_MAGIC:
        raise BackupError(f"{path} is not a SQLite database")


def _in_use(database: Path) -> BackupError:
    return BackupError(
        f"{database} is in use, probably by a running `hocvuso serve`: stop the service"
        " first (or pass --force if nothing is running)"
    )


def _set_aside(database: Path, stamp: str, *, force: bool) -> Path | None:
    """Keep a consistent copy of the current database as `<name>.before-restore-<stamp>`."""
    if not database.exists():
        return None
    if not force and database_in_use(database):
        raise _in_use(database)
    aside = database.with_name(f"{database.name}.before-restore-{stamp}")
    aside.unlink(missing_ok=True)
    try:
        # Not checked: a damaged database is a common reason to restore, and is kept as is.
        _copy_database(database, aside, check=False)
    except sqlite3.Error:
        # Too damaged to read: move the files themselves aside, WAL included.
        aside.unlink(missing_ok=True)
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                Path(f"{database}{suffix}").replace(f"{aside}{suffix}")
    return aside
