"""Migrations build exactly the models' schema, and engines are configured as promised."""

from __future__ import annotations

import importlib
import os
import pkgutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import storage
from storage.db import MIGRATIONS_DIR, alembic_config, make_engine, migrate, normalise_url
from storage.inbox import SqlInbox
from storage.records import Changes, Consent, LearnerKey, Profile
from storage.repository import SqlRepository

OUR_TABLES = {
    "learner",
    "consent",
    "conversation",
    "progress_event",
    "quiz_answer",
    "applied_update",
    "inbox_update",
}


def _import_all_storage_modules() -> None:
    # Tables register on SQLModel.metadata when their module is imported; a table defined in
    # storage but never imported here would escape the comparison.
    for module in pkgutil.iter_modules(storage.__path__, "storage."):
        importlib.import_module(module.name)


@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def empty_engine(request: pytest.FixtureRequest, sqlite_url: str) -> Iterator[Engine]:
    """An engine on a database with no tables yet, on each SQL backend."""
    # Requested lazily, so SQLite runs never touch the PostgreSQL server.
    postgres = request.param == "postgres"
    engine = make_engine(request.getfixturevalue("empty_postgres_url") if postgres else sqlite_url)
    yield engine
    engine.dispose()


def _differences(engine: Engine, metadata: sa.MetaData) -> list[Any]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


def _head() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _current(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def test_migrations_build_exactly_the_models(empty_engine: Engine) -> None:
    _import_all_storage_modules()

    migrate(empty_engine)

    assert set(SQLModel.metadata.tables) >= OUR_TABLES
    assert _differences(empty_engine, SQLModel.metadata) == []
    assert _current(empty_engine) == _head()


def test_comparison_would_notice_a_missing_index(empty_engine: Engine) -> None:
    # Guards the test above against comparing nothing: a schema change must show up.
    _import_all_storage_modules()
    migrate(empty_engine)
    changed = sa.MetaData()
    for table in SQLModel.metadata.tables.values():
        table.to_metadata(changed)
    sa.Index("ix_quiz_answer_lesson_question", changed.tables["quiz_answer"].c.lesson_id)

    differences = _differences(empty_engine, changed)

    assert [difference[0] for difference in differences] == ["add_index"]


def test_migrate_twice_is_harmless_and_keeps_data(empty_engine: Engine) -> None:
    migrate(empty_engine)
    repository = SqlRepository(empty_engine)
    key = LearnerKey("web", "cookie-1")
    snapshot = repository.enrol(key, Consent("2025-07"), "menu", {"a": 1})
    assert snapshot is not None

    migrate(empty_engine)

    assert repository.load(key) == snapshot
    assert repository.apply(snapshot.learner_id, 1, Changes(state="next", data={}))
    assert _current(empty_engine) == _head()


def _migrate_to(engine: Engine, revision: str, *, down: bool = False) -> None:
    with engine.begin() as connection:
        config = alembic_config(connection)
        if down:
            command.downgrade(config, revision)
        else:
            command.upgrade(config, revision)


def _sqlite_learner_autoincrements(engine: Engine) -> bool:
    with engine.connect() as connection:
        sql = connection.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'learner'"
        ).scalar_one()
    return "AUTOINCREMENT" in sql.upper()


def test_upgrade_from_0001_keeps_the_data(empty_engine: Engine) -> None:
    _migrate_to(empty_engine, "0001")
    created = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
    # Written with the 0001 schema by hand: today's models know columns 0001 did not have.
    with empty_engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO learner (channel, chat_id, target_group, hamlet_id, birth_year,"
                " created_at) VALUES ('telegram', '42', 'adult', 'thon-1', 1960, :at)"
            ),
            {"at": created},
        )
        learner_id = connection.execute(sa.text("SELECT id FROM learner")).scalar_one()
        connection.execute(
            sa.text(
                "INSERT INTO conversation (learner_id, state, data, version, updated_at)"
                " VALUES (:id, 'lesson', :data, 3, :at)"
            ),
            {"id": learner_id, "data": '{"lesson": "vneid-muc-2", "card": 2}', "at": created},
        )

    migrate(empty_engine)

    assert _current(empty_engine) == _head()
    repository = SqlRepository(empty_engine)
    key = LearnerKey("telegram", "42")
    snapshot = repository.load(key)
    assert snapshot is not None
    assert snapshot.learner_id == learner_id
    assert snapshot.profile == Profile("adult", "thon-1", 1960)
    assert snapshot.state == "lesson"
    assert dict(snapshot.data) == {"lesson": "vneid-muc-2", "card": 2}
    assert snapshot.version == 3
    assert snapshot.start_payload is None
    step = Changes(state="quiz", data={}, update_id="7", start_payload="thon-1")
    assert repository.apply(learner_id, 3, step)
    assert repository.is_applied(key, "7")
    assert SqlInbox(empty_engine).add("telegram", "7", {"update_id": 7})
    if empty_engine.dialect.name == "sqlite":
        assert _sqlite_learner_autoincrements(empty_engine)


def test_downgrade_to_0001_and_back(empty_engine: Engine) -> None:
    migrate(empty_engine)
    repository = SqlRepository(empty_engine)
    key = LearnerKey("zalo", "m-1")
    enrolled = repository.enrol(key, Consent("2025-07"), "menu", {"a": 1}, start_payload="p")
    assert enrolled is not None

    _migrate_to(empty_engine, "0001", down=True)
    assert _current(empty_engine) == "0001"
    with empty_engine.connect() as connection:
        tables = set(sa.inspect(connection).get_table_names())
        learners = connection.execute(sa.text("SELECT chat_id FROM learner")).scalars().all()
        consents = connection.execute(sa.text("SELECT count(*) FROM consent")).scalar_one()
    assert not tables & {"applied_update", "inbox_update"}
    # Rebuilding `learner` on SQLite would have cascaded into its children.
    assert learners == ["m-1"]
    assert consents == 1
    if empty_engine.dialect.name == "sqlite":
        assert _sqlite_learner_autoincrements(empty_engine)

    migrate(empty_engine)

    _import_all_storage_modules()
    assert _differences(empty_engine, SQLModel.metadata) == []
    assert repository.load(key) == replace(enrolled, start_payload=None)


# Each worker process imports first, says "ready", then migrates when told "go".
_WORKER = """
import sys
from storage.db import make_engine, migrate
engine = make_engine(sys.argv[1])
print("ready", flush=True)
sys.stdin.readline()
migrate(engine)
"""


def test_worker_processes_migrating_at_once_all_succeed(empty_engine: Engine) -> None:
    url = empty_engine.url.render_as_string(hide_password=False)
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(root), *sys.path]))}
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=root,
            env=env,
        )
        for _ in range(3)
    ]
    for worker in workers:
        assert worker.stdout is not None
        assert worker.stdout.readline().strip() == "ready"
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write("go\n")
        worker.stdin.flush()

    errors = [worker.communicate(timeout=60)[1] for worker in workers]

    assert [worker.returncode for worker in workers] == [0, 0, 0], errors
    assert _current(empty_engine) == _head()


def test_migrations_ship_with_their_template() -> None:
    # Alembic needs script.py.mako to write new revisions; pyproject ships it as package data.
    assert (MIGRATIONS_DIR / "script.py.mako").is_file()
    assert (MIGRATIONS_DIR / "env.py").is_file()


def test_sqlite_engine_uses_wal_and_waits_for_locks(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    try:
        with engine.connect() as connection:
            pragmas = {
                name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "busy_timeout", "foreign_keys", "synchronous")
            }
    finally:
        engine.dispose()

    # synchronous=1 is NORMAL.
    assert pragmas == {
        "journal_mode": "wal",
        "busy_timeout": 5000,
        "foreign_keys": 1,
        "synchronous": 1,
    }
    database = make_engine(sqlite_url).url.database
    assert database is not None
    assert Path(database).parent.is_dir()


def test_sqlite_foreign_keys_cascade(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    migrate(engine)
    snapshot = SqlRepository(engine).enrol(LearnerKey("web", "x"), Consent("1"), "s", {})
    assert snapshot is not None

    with engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM learner"))
        left = connection.execute(sa.text("SELECT count(*) FROM conversation")).scalar_one()
    engine.dispose()

    assert left == 0


@pytest.mark.parametrize(
    "url",
    [
        "postgres://hv:p%40ss@db.example:5432/hocvuso",
        "postgresql://hv:p%40ss@db.example:5432/hocvuso",
        "postgresql+psycopg://hv:p%40ss@db.example:5432/hocvuso",
    ],
)
def test_postgres_urls_use_psycopg(url: str) -> None:
    engine = make_engine(url)

    assert normalise_url(url).drivername == "postgresql+psycopg"
    assert engine.dialect.driver == "psycopg"
    assert engine.url.password == "p@ss"
    assert engine.pool._pre_ping
    engine.dispose()
