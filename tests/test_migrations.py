"""Migrations build exactly the models' schema, and engines are configured as promised."""

from __future__ import annotations

import importlib
import os
import pkgutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from itertools import pairwise
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


# Rows written at each revision with that revision's own schema (raw SQL: today's models know
# columns an old revision lacks). Together they touch every table there is.
_AT = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
_ROWS_AT: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "0001": [
        (
            "INSERT INTO learner (id, channel, chat_id, target_group, hamlet_id, birth_year,"
            " created_at) VALUES (1, 'telegram', '42', 'adult', 'thon-1', 1960, :at)",
            {},
        ),
        (
            "INSERT INTO consent (learner_id, version, method, given_at)"
            " VALUES (1, '2025-01', 'self', :at)",
            {},
        ),
        (
            "INSERT INTO conversation (learner_id, state, data, version, updated_at)"
            " VALUES (1, 'lesson', :data, 5, :at)",
            {"data": '{"lesson": "vneid-muc-2", "card": 2}'},
        ),
        (
            "INSERT INTO progress_event (learner_id, lesson_id, kind, score, total, created_at)"
            " VALUES (1, 'vneid-muc-2', 'quiz_passed', 2, 2, :at)",
            {},
        ),
        (
            "INSERT INTO quiz_answer (learner_id, lesson_id, question_id, attempt, option_index,"
            " correct, raw_text, created_at) VALUES (1, 'vneid-muc-2', 'q1', 1, NULL, :yes,"
            " 'mức 2', :at)",
            {"yes": True},
        ),
    ],
    "0002": [
        (
            "INSERT INTO learner (id, channel, chat_id, target_group, hamlet_id, created_at,"
            " start_payload) VALUES (2, 'zalo', 'z-7', 'pupil', 'thon-2', :at, 'thon-2')",
            {},
        ),
        (
            "INSERT INTO conversation (learner_id, state, data, version, updated_at)"
            " VALUES (2, 'menu', '{}', 2, :at)",
            {},
        ),
        (
            "INSERT INTO applied_update (channel, update_id, learner_id, applied_at)"
            " VALUES ('zalo', 'm-1', 2, :at)",
            {},
        ),
        (
            "INSERT INTO inbox_update (channel, update_key, payload, status, attempts,"
            " next_attempt_at, received_at) VALUES ('zalo', 'm-1', '{}', 'done', 1, :at, :at)",
            {},
        ),
    ],
    "0003": [
        (
            "INSERT INTO official (name, role, hamlet_id, token_hash, created_at)"
            " VALUES ('Lan', 'hamlet', 'thon-1', :hash, :at)",
            {"hash": "a" * 64},
        ),
        (
            "INSERT INTO audit_log (official_id, official_name, role, method, path, status, at)"
            " VALUES (1, 'Lan', 'hamlet', 'GET', '/api/v1/overview', 200, :at)",
            {},
        ),
    ],
    "0004": [
        (
            "INSERT INTO question_log (asked_at, topic, answered, text)"
            " VALUES (:at, 'vneid', :yes, 'cai vneid the nao')",
            {"yes": True},
        ),
    ],
    "0005": [
        ("UPDATE learner SET referred_by = 1, nickname = 'bé Na' WHERE id = 2", {}),
        (
            "INSERT INTO volunteer_invite (org, code_hash, created_at)"
            " VALUES ('Đoàn Thanh niên', :hash, :at)",
            {"hash": "b" * 64},
        ),
        (
            "INSERT INTO volunteer (learner_id, org, invite_id, referral_code, joined_at)"
            " VALUES (1, 'Đoàn Thanh niên', 1, 'ABC234', :at)",
            {},
        ),
        (
            "INSERT INTO hands_on_check (learner_id, check_id, signed_by, signed_at)"
            " VALUES (2, 'vneid-muc-2', 1, :at)",
            {},
        ),
        (
            "INSERT INTO review_item (learner_id, lesson_id, question_id, due_at, interval_days)"
            " VALUES (2, 'vneid-muc-2', 'q1', :at, 3)",
            {},
        ),
        ("INSERT INTO reminder (learner_id, next_at, created_at) VALUES (1, :at, :at)", {}),
        (
            "INSERT INTO certificate (code, learner_id, initials, hamlet_id, target_group,"
            " issued_on, lessons) VALUES ('CERT234567', 1, 'N.V.A', 'thon-1', 'adult',"
            " :day, :lessons)",
            {"day": _AT.date(), "lessons": '["vneid-muc-2"]'},
        ),
    ],
    "0006": [
        (
            "INSERT INTO milestone_core_lesson (target_group, lesson_id)"
            " VALUES ('adult', 'vneid-muc-2')",
            {},
        ),
        (
            "INSERT INTO milestone_state (id, fingerprint) VALUES (1, :fingerprint)",
            {"fingerprint": "f" * 64},
        ),
        # The trigger writes learner 1's learner_milestone row.
        (
            "INSERT INTO hands_on_check (learner_id, check_id, signed_by, signed_at)"
            " VALUES (1, 'platform_confirmed', 2, :at)",
            {},
        ),
    ],
    "0007": [
        # The trigger copies learner 1's new hamlet into its learner_milestone row.
        ("UPDATE learner SET hamlet_id = 'thon-2' WHERE id = 1", {}),
    ],
}


def _revisions() -> list[str]:
    """Every revision, oldest first."""
    scripts = ScriptDirectory.from_config(alembic_config())
    return [script.revision for script in reversed(list(scripts.walk_revisions()))]


def _write_rows(engine: Engine, revision: str) -> None:
    with engine.begin() as connection:
        for sql, params in _ROWS_AT.get(revision, []):
            connection.execute(sa.text(sql), {"at": _AT, **params})
        if connection.dialect.name == "postgresql":
            # Explicit ids above: move the sequence on, as a real insert would have.
            connection.execute(
                sa.text("SELECT setval(pg_get_serial_sequence('learner', 'id'), 2, true)")
            )


Rows = dict[str, tuple[list[str], list[dict[str, Any]]]]


def _all_rows(engine: Engine) -> Rows:
    """Every table's columns and rows (but alembic_version's)."""
    with engine.connect() as connection:
        inspector = sa.inspect(connection)
        result: Rows = {}
        for table in inspector.get_table_names():
            if table == "alembic_version":
                continue
            columns = [column["name"] for column in inspector.get_columns(table)]
            rows = connection.execute(sa.text(f'SELECT * FROM "{table}"')).mappings().all()
            result[table] = (columns, [dict(row) for row in rows])
        return result


def _kept(before: Rows, after: Rows) -> None:
    """Assert that every row of `before` is still in `after`, in the columns both have."""
    for table, (columns, rows) in before.items():
        if table not in after:
            continue
        common = [column for column in columns if column in after[table][0]]
        old = Counter(repr([row[column] for column in common]) for row in rows)
        new = Counter(repr([row[column] for column in common]) for row in after[table][1])
        assert old <= new, (table, old - new)


def test_upgrade_one_revision_at_a_time_with_data_written_at_each(empty_engine: Engine) -> None:
    revisions = _revisions()
    assert revisions[0] == "0001" and revisions[-1] == _head()
    assert set(_ROWS_AT) == set(revisions), "add the rows a new revision's tables hold"
    before: dict[str, dict[str, list[Any]]] = {}
    for revision in revisions:
        _migrate_to(empty_engine, revision)
        assert _current(empty_engine) == revision
        after = _all_rows(empty_engine)
        _kept(before, after)
        _write_rows(empty_engine, revision)
        before = _all_rows(empty_engine)

    _import_all_storage_modules()
    assert set(before) == set(SQLModel.metadata.tables)
    assert [table for table, (_, rows) in before.items() if not rows] == [], "tables left empty"
    migrate(empty_engine)
    assert _differences(empty_engine, SQLModel.metadata) == []
    repository = SqlRepository(empty_engine)
    first = repository.load(LearnerKey("telegram", "42"))
    assert first is not None and first.version == 5 and first.volunteer is not None
    assert first.certificate_code == "CERT234567" and first.reminder_at is not None
    second = repository.load(LearnerKey("zalo", "z-7"))
    assert second is not None and second.start_payload == "thon-2"
    assert second.referred_by == 1 and second.nickname == "bé Na" and second.reviews
    assert repository.is_applied(LearnerKey("zalo", "z-7"), "m-1")
    assert repository.apply(second.learner_id, 2, Changes(state="menu", data={}))
    newcomer = repository.enrol(LearnerKey("web", "new"), Consent("2026-01"), "menu", {})
    assert newcomer is not None and newcomer.learner_id == 3


def test_downgrade_and_upgrade_one_revision_at_a_time_keep_the_data(
    empty_engine: Engine,
) -> None:
    revisions = _revisions()
    for revision in revisions:
        _migrate_to(empty_engine, revision)
        _write_rows(empty_engine, revision)

    # Down to 0001 one step at a time; at each step, back up and down again. Every step keeps
    # the rows of the tables both schemas have, in the columns both have.
    for older, newer in reversed(list(pairwise(revisions))):
        before = _all_rows(empty_engine)
        _migrate_to(empty_engine, older, down=True)
        assert _current(empty_engine) == older
        at_older = _all_rows(empty_engine)
        _kept(before, at_older)
        _migrate_to(empty_engine, newer)
        assert _current(empty_engine) == newer
        _kept(at_older, _all_rows(empty_engine))
        _migrate_to(empty_engine, older, down=True)
        _kept(at_older, _all_rows(empty_engine))
    at_first = _all_rows(empty_engine)
    assert set(at_first) == {"learner", "consent", "conversation", "progress_event", "quiz_answer"}
    assert all(rows for _, rows in at_first.values())

    for revision in revisions[1:]:
        _migrate_to(empty_engine, revision)
        _kept(at_first, _all_rows(empty_engine))

    _import_all_storage_modules()
    assert _current(empty_engine) == _head()
    assert _differences(empty_engine, SQLModel.metadata) == []
    snapshot = SqlRepository(empty_engine).load(LearnerKey("telegram", "42"))
    assert snapshot is not None and snapshot.version == 5
    if empty_engine.dialect.name == "sqlite":
        assert _sqlite_learner_autoincrements(empty_engine)


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
