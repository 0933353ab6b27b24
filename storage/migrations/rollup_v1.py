"""The rollup's triggers as migration 0006 installed them (frozen; see storage/rollup.py).

Migrations must not change meaning when the live code moves on: 0006 installs these, 0007
replaces them with storage/rollup.py's current ones (which also keep the learner's group,
hamlet and creation time in the row)."""

from __future__ import annotations

from sqlalchemy.engine import Connection

PASSED = "quiz_passed"
CONFIRMED = "platform_confirmed"
# pg_advisory_xact_lock(key, learner_id): one writer at a time recomputes a learner's row, so
# a concurrent step and sign-off for the same learner never overwrite each other's result.
LOCK_KEY = 0x6D696C  # "mil"


def _row_select(learner: str) -> str:
    """SELECT of one learner's milestone row; `learner` is an SQL expression of their id."""
    return f"""
SELECT l.id,
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


_COLUMNS = "learner_id, core_completed_at, confirmed_at, hands_on_at"


def _sqlite_refresh(learner: str) -> str:
    return f"INSERT OR REPLACE INTO learner_milestone ({_COLUMNS}) {_row_select(learner)};"


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
        "AFTER UPDATE OF target_group ON learner WHEN OLD.target_group IS NOT NEW.target_group",
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
    core_completed_at = excluded.core_completed_at,
    confirmed_at = excluded.confirmed_at,
    hands_on_at = excluded.hands_on_at;
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
    "CREATE OR REPLACE TRIGGER learner_milestone_learner AFTER UPDATE OF target_group"
    " ON learner FOR EACH ROW WHEN (OLD.target_group IS DISTINCT FROM NEW.target_group)"
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
