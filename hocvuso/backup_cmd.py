"""`hocvuso backup` and `hocvuso restore` for SQLite; PostgreSQL is pointed to pg_dump."""

from __future__ import annotations

import sys
from pathlib import Path

from sqlalchemy.engine import URL

from hocvuso.settings import Settings
from storage.backup import (
    BackupError,
    backup_sqlite,
    default_backup_path,
    restore_sqlite,
    sqlite_file,
    timestamp,
)
from storage.db import normalise_url

DOCS = "docs/operations.md#backups"


def run_backup(settings: Settings, target: Path | None) -> int:
    """Back up the configured SQLite database; print the backup's path on stdout."""
    try:
        database = sqlite_file(settings.database_url)
        if database is None:
            print(f"hocvuso: {_postgres_hint('backup', settings.database_url)}", file=sys.stderr)
            return 2
        path = target if target is not None else default_backup_path(database)
        backup_sqlite(database, path)
    except BackupError as exc:
        print(f"hocvuso: {exc}", file=sys.stderr)
        return 2
    print(path)
    return 0


def run_restore(settings: Settings, backup: Path, force: bool) -> int:
    """Restore a SQLite backup over the configured database, keeping the old one aside."""
    try:
        database = sqlite_file(settings.database_url)
        if database is None:
            print(f"hocvuso: {_postgres_hint('restore', settings.database_url)}", file=sys.stderr)
            return 2
        result = restore_sqlite(backup, database, force=force)
    except BackupError as exc:
        print(f"hocvuso: {exc}", file=sys.stderr)
        return 2
    schema = result.revision_found
    if result.revision_now != schema:
        schema = f"{schema}, migrated to {result.revision_now}"
    print(f"restored {backup} into {database} (schema {schema})")
    if result.previous is not None:
        print(f"the previous database is kept as {result.previous}")
    return 0


def _postgres_hint(command: str, url: str) -> str:
    """One line: this command is for SQLite; the pg_dump/pg_restore command to use instead."""
    parsed = normalise_url(url)
    if command == "backup":
        tool = f"pg_dump --format=custom --file=hocvuso-{timestamp()}.dump{_libpq(parsed)}"
    else:
        tool = f"pg_restore --no-owner --exit-on-error{_libpq(parsed)} FILE.dump"
    return f"`hocvuso {command}` is for SQLite; on PostgreSQL use: {tool} (see {DOCS})"


def _libpq(url: URL) -> str:
    """The connection options of pg_dump/pg_restore for this URL; never the password."""
    options = [
        f"--{name}={value}"
        for name, value in (("host", url.host), ("port", url.port), ("username", url.username))
        if value is not None
    ]
    options.append(f"--dbname={url.database or 'postgres'}")
    return "".join(f" {option}" for option in options)
