"""A per-learner rollup of the coverage milestones, kept exact by database triggers.

`learner_milestone` holds, per learner with a passed quiz or a hands-on check:

- core_completed_at: when the learner completed their group's core path, i.e. the latest of
  the first `quiz_passed` instants of the path's lessons (so "completed by as_of" is exactly
  "core_completed_at <= as_of", docs/metrics.md); None while a lesson is missing or the path
  is empty;
- confirmed_at: the first `platform_confirmed` sign-off; hands_on_at: the first other one;
- the learner's target group, hamlet and creation time, copied so the statistics read this
  table alone (no join with 1.7 M learners at province scale).

A learner with none of the three has no row.

Triggers on `progress_event`, `hands_on_check` and `learner` (group, hamlet, creation time)
recompute the learner's row in the writing transaction, on SQLite and PostgreSQL, whoever
writes the rows (the app, the CLI, tests, a restore). The core paths come from the content,
so the triggers read them from `milestone_core_lesson`; `sync_rollup` (run at start-up)
stores the content's paths and rebuilds the table from the raw events when they changed, and
records their fingerprint in `milestone_state`. `storage.stats` reads the rollup only when
the stored fingerprint is the one of the paths asked for; otherwise it falls back to the raw
events.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

PASSED = "quiz_passed"
CONFIRMED = "platform_confirmed"
# pg_advisory_xact_lock(key, learner_id): one writer at a time recomputes a learner's row, so
# a concurrent step and sign-off for the same learner never overwrite each other's result.
LOCK_KEY = 0x6D696C  # "mil"


# Part of the fingerprint: a new layout of the table is rebuilt at start-up like new paths.
LAYOUT = 2  # 2: the learner's group, hamlet and creation time are kept in the row


def fingerprint(core_paths: Mapping[str, Collection[str]]) -> str:
    """A stable digest of the non-empty core paths (what the rollup was computed with)."""
    paths = {group: sorted(set(lessons)) for group, lessons in core_paths.items() if lessons}
    text = json.dumps({"layout": LAYOUT, "paths": paths}, sort_keys=True, ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _row_select(learner: str) -> str:
    """SELECT of one learner's milestone row; `learner` is an SQL expression of their id."""
    return f"""
SELECT l.id, l.target_group, l.hamlet_id, l.created_at,
  (SELECT CASE WHEN count(*) = (SELECT count(*) FROM milestone_core_lesson c
                                WHERE c.target_group = l.target_group)
               THEN max(f.first_at) END
   FROM (SELECT min(e.created_at) AS first_at
         FROM progress_event e
         JOIN milestone_core_lesson c ON c.lesson_id = e.lesson_id
         WHERE e.learner_id = l.id AND e.kind = '{PASSED}'
           AND c.target_group = l.target_group
         GROUP BY e.lesson_id) AS f),
  (SELECT min(h.signed_at) FROM hands_on_check h
   WHERE h.learner_id = l.id AND h.check_id = '{CONFIRMED}'),
  (SELECT min(h.signed_at) FROM hands_on_check h
   WHERE h.learner_id = l.id AND h.check_id <> '{CONFIRMED}')
FROM learner l WHERE l.id = {learner}"""


_COLUMNS = (
    "learner_id, target_group, hamlet_id, created_at, core_completed_at, confirmed_at, hands_on_at"
)
# A learner with no milestone has no row: the table stays as small as the rebuild makes it.
_EMPTY = "core_completed_at IS NULL AND confirmed_at IS NULL AND hands_on_at IS NULL"


def _sqlite_refresh(learner: str) -> str:
    return (
        f"INSERT OR REPLACE INTO learner_milestone ({_COLUMNS}) {_row_select(learner)};\n"
        f"DELETE FROM learner_milestone WHERE learner_id = {learner} AND {_EMPTY};"
    )


_SQLITE_TRIGGERS = {
    "learner_milestone_event_insert": (
        f"AFTER INSERT ON progress_event WHEN NEW.kind = '{PASSED}'",
        ("NEW.learner_id",),
    ),
    "learner_milestone_event_delete": (
        f"AFTER DELETE ON progress_event WHEN OLD.kind = '{PASSED}'",
        ("OLD.learner_id",),
    ),
    "learner_milestone_event_update": (
        "AFTER UPDATE ON progress_event",
        ("OLD.learner_id", "NEW.learner_id"),
    ),
    "learner_milestone_check_insert": ("AFTER INSERT ON hands_on_check", ("NEW.learner_id",)),
    "learner_milestone_check_delete": ("AFTER DELETE ON hands_on_check", ("OLD.learner_id",)),
    "learner_milestone_check_update": (
        "AFTER UPDATE ON hands_on_check",
        ("OLD.learner_id", "NEW.learner_id"),
    ),
    "learner_milestone_learner_group": (
        "AFTER UPDATE OF target_group, hamlet_id, created_at ON learner"
        " WHEN OLD.target_group IS NOT NEW.target_group OR OLD.hamlet_id IS NOT NEW.hamlet_id"
        " OR OLD.created_at IS NOT NEW.created_at",
        ("NEW.id",),
    ),
}

_PG_FUNCTIONS = f"""
CREATE OR REPLACE FUNCTION learner_milestone_refresh(p_learner integer) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock({LOCK_KEY}, p_learner);
  INSERT INTO learner_milestone ({_COLUMNS}) {_row_select("p_learner")}
  ON CONFLICT (learner_id) DO UPDATE SET
    target_group = excluded.target_group,
    hamlet_id = excluded.hamlet_id,
    created_at = excluded.created_at,
    core_completed_at = excluded.core_completed_at,
    confirmed_at = excluded.confirmed_at,
    hands_on_at = excluded.hands_on_at;
  DELETE FROM learner_milestone WHERE learner_id = p_learner AND {_EMPTY};
END $$;

CREATE OR REPLACE FUNCTION learner_milestone_on_event() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('DELETE', 'UPDATE') AND (TG_OP = 'UPDATE' OR OLD.kind = '{PASSED}') THEN
    PERFORM learner_milestone_refresh(OLD.learner_id);
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') AND (TG_OP = 'UPDATE' OR NEW.kind = '{PASSED}') THEN
    PERFORM learner_milestone_refresh(NEW.learner_id);
  END IF;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION learner_milestone_on_check() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    PERFORM learner_milestone_refresh(OLD.learner_id);
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    PERFORM learner_milestone_refresh(NEW.learner_id);
  END IF;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION learner_milestone_on_learner() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM learner_milestone_refresh(NEW.id);
  RETURN NULL;
END $$;
"""

_PG_TRIGGERS = (
    "CREATE OR REPLACE TRIGGER learner_milestone_event AFTER INSERT OR UPDATE OR DELETE"
    " ON progress_event FOR EACH ROW EXECUTE FUNCTION learner_milestone_on_event()",
    "CREATE OR REPLACE TRIGGER learner_milestone_check AFTER INSERT OR UPDATE OR DELETE"
    " ON hands_on_check FOR EACH ROW EXECUTE FUNCTION learner_milestone_on_check()",
    "CREATE OR REPLACE TRIGGER learner_milestone_learner"
    " AFTER UPDATE OF target_group, hamlet_id, created_at ON learner FOR EACH ROW"
    " WHEN (OLD.target_group IS DISTINCT FROM NEW.target_group"
    " OR OLD.hamlet_id IS DISTINCT FROM NEW.hamlet_id"
    " OR OLD.created_at IS DISTINCT FROM NEW.created_at)"
    " EXECUTE FUNCTION learner_milestone_on_learner()",
)


def install_triggers(connection: Connection) -> None:
    """Create (or replace) the triggers that keep `learner_milestone` exact."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(_PG_FUNCTIONS)
        for statement in _PG_TRIGGERS:
            connection.exec_driver_sql(statement)
        return
    for name, (when, learners) in _SQLITE_TRIGGERS.items():
        body = "\n".join(_sqlite_refresh(learner) for learner in learners)
        connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
        connection.exec_driver_sql(f"CREATE TRIGGER {name} {when}\nBEGIN\n{body}\nEND")


def drop_triggers(connection: Connection) -> None:
    """Remove the triggers and functions (migration downgrade, bulk loads)."""
    if connection.dialect.name == "postgresql":
        for name, table in (
            ("learner_milestone_event", "progress_event"),
            ("learner_milestone_check", "hands_on_check"),
            ("learner_milestone_learner", "learner"),
        ):
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        for function in (
            "learner_milestone_on_event()",
            "learner_milestone_on_check()",
            "learner_milestone_on_learner()",
            "learner_milestone_refresh(integer)",
        ):
            connection.exec_driver_sql(f"DROP FUNCTION IF EXISTS {function}")
        return
    for name in _SQLITE_TRIGGERS:
        connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")


# The whole table from the raw rows at once; the same figures as the per-learner trigger SQL
# (tests/test_rollup.py compares both with the raw counts).
_REBUILD = f"""
INSERT INTO learner_milestone ({_COLUMNS})
SELECT l.id, l.target_group, l.hamlet_id, l.created_at,
  done.completed_at, checks.confirmed_at, checks.hands_on_at
FROM learner l
LEFT JOIN (
  SELECT firsts.learner_id, max(firsts.first_at) AS completed_at
  FROM (
    SELECT e.learner_id, min(e.created_at) AS first_at, l2.target_group
    FROM progress_event e
    JOIN learner l2 ON l2.id = e.learner_id
    JOIN milestone_core_lesson c
      ON c.target_group = l2.target_group AND c.lesson_id = e.lesson_id
    WHERE e.kind = '{PASSED}'
    GROUP BY e.learner_id, e.lesson_id, l2.target_group
  ) AS firsts
  JOIN (SELECT target_group, count(*) AS lessons FROM milestone_core_lesson
        GROUP BY target_group) AS paths ON paths.target_group = firsts.target_group
  GROUP BY firsts.learner_id, paths.lessons
  HAVING count(*) = paths.lessons
) AS done ON done.learner_id = l.id
LEFT JOIN (
  SELECT learner_id,
    min(CASE WHEN check_id = '{CONFIRMED}' THEN signed_at END) AS confirmed_at,
    min(CASE WHEN check_id <> '{CONFIRMED}' THEN signed_at END) AS hands_on_at
  FROM hands_on_check GROUP BY learner_id
) AS checks ON checks.learner_id = l.id
WHERE done.learner_id IS NOT NULL OR checks.learner_id IS NOT NULL
"""


def stored_fingerprint(connection: Connection) -> str | None:
    """The fingerprint of the core paths the rollup is exact for, or None (not built)."""
    value = connection.execute(
        sa.text("SELECT fingerprint FROM milestone_state WHERE id = 1")
    ).scalar_one_or_none()
    return None if value is None else str(value)


def rebuild(connection: Connection, core_paths: Mapping[str, Collection[str]]) -> None:
    """Store the core paths, install the triggers and recompute the table from raw rows."""
    if connection.dialect.name == "postgresql":
        # No step may write with the old paths while the table is rebuilt with the new ones.
        connection.exec_driver_sql(
            "LOCK TABLE learner, progress_event, hands_on_check IN SHARE MODE"
        )
    install_triggers(connection)
    connection.exec_driver_sql("DELETE FROM milestone_core_lesson")
    rows = [
        {"group": group, "lesson": lesson}
        for group, lessons in sorted(core_paths.items())
        for lesson in sorted(set(lessons))
    ]
    if rows:
        connection.execute(
            sa.text(
                "INSERT INTO milestone_core_lesson (target_group, lesson_id)"
                " VALUES (:group, :lesson)"
            ),
            rows,
        )
    connection.exec_driver_sql("DELETE FROM learner_milestone")
    connection.exec_driver_sql(_REBUILD)
    connection.exec_driver_sql("DELETE FROM milestone_state")
    connection.execute(
        sa.text("INSERT INTO milestone_state (id, fingerprint) VALUES (1, :fingerprint)"),
        {"fingerprint": fingerprint(core_paths)},
    )


def sync_rollup(
    engine: Engine, core_paths: Mapping[str, Collection[str]], *, force: bool = False
) -> bool:
    """Rebuild the rollup when the content's core paths changed (or `force`); True if rebuilt."""
    with engine.begin() as connection:
        if not force and stored_fingerprint(connection) == fingerprint(core_paths):
            return False
        rebuild(connection, core_paths)
    return True
