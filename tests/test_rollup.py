"""The coverage rollup (storage/rollup.py) gives exactly the raw counts, whoever writes.

Property-style: random steps through the repository (profiles, passed and failed quizzes,
volunteers' sign-offs, deletions) and raw inserts with random timestamps, on SQLite and
PostgreSQL; after each round the rollup-based counts equal the raw ones at several instants.
"""

from __future__ import annotations

import datetime as dt
import random

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from storage.records import (
    Changes,
    CheckSignOff,
    Consent,
    EventKind,
    LearnerKey,
    Profile,
    ProgressEvent,
)
from storage.repository import SqlRepository
from storage.rollup import fingerprint, stored_fingerprint, sync_rollup
from storage.stats import CoverageCount, coverage_counts_at

GROUPS = ("adult", "elder", "youth")
LESSONS = ("a", "b", "c", "d", "e")
PATHS = {"adult": ["a", "b", "c"], "elder": ["a", "d"], "youth": []}
OTHER_PATHS = {"adult": ["a", "b"], "elder": ["a", "d", "e"], "youth": ["e"]}
CHECKS = ("platform_confirmed", "vneid_level2", "qr_transfer")
T0 = dt.datetime(2026, 9, 1, tzinfo=dt.UTC)
KINDS = (EventKind.QUIZ_PASSED,) * 3 + (EventKind.QUIZ_FAILED, EventKind.LESSON_STARTED)


def _instants(rng: random.Random) -> list[dt.datetime]:
    now = dt.datetime.now(dt.UTC)
    spread = [T0 + dt.timedelta(hours=rng.uniform(-24, 24 * 12)) for _ in range(4)]
    return [*spread, T0 - dt.timedelta(days=30), now + dt.timedelta(minutes=5)]


def _assert_equal(
    engine: Engine, paths: dict[str, list[str]], rng: random.Random
) -> tuple[CoverageCount, ...]:
    instants = _instants(rng)
    with engine.connect() as connection:
        assert stored_fingerprint(connection) == fingerprint(paths)
    rolled = coverage_counts_at(engine, paths, instants)
    raw = coverage_counts_at(engine, paths, instants, rollup=False)
    assert rolled == raw
    return rolled[-1]


def _random_round(engine: Engine, repository: SqlRepository, rng: random.Random) -> None:
    with engine.connect() as connection:
        learners = [
            (row.id, row.version)
            for row in connection.execute(
                sa.text("SELECT learner_id AS id, version FROM conversation")
            )
        ]
    for _ in range(40):
        action = rng.random()
        if action < 0.15 or not learners:
            snapshot = repository.enrol(
                LearnerKey("web", f"c{rng.randrange(10**9)}"), Consent("2026-01"), "menu", {}
            )
            assert snapshot is not None
            learners.append((snapshot.learner_id, snapshot.version))
            continue
        index = rng.randrange(len(learners))
        learner_id, _ = learners[index]
        version = _version(engine, learner_id)
        if version is None:  # deleted: only raw rows can still name it
            action, version = 0.9, 0
        if action < 0.3:
            profile = Profile(
                target_group=rng.choice((*GROUPS, None)),
                hamlet_id=rng.choice(("thon-1", "thon-2", None)),
            )
            assert repository.apply(learner_id, version, Changes("menu", {}, profile=profile))
        elif action < 0.55:
            events = tuple(
                ProgressEvent(rng.choice(LESSONS), rng.choice(KINDS))
                for _ in range(rng.randint(1, 3))
            )
            assert repository.apply(learner_id, version, Changes("menu", {}, events=events))
        elif action < 0.7:
            # A volunteer's sign-off for a resident they created.
            volunteer_id, _ = learners[rng.randrange(len(learners))]
            volunteer_version = _version(engine, volunteer_id)
            if volunteer_version is None:
                continue
            with engine.begin() as connection:
                connection.execute(
                    sa.text("UPDATE learner SET assisted_by = :v WHERE id = :id"),
                    {"v": volunteer_id, "id": learner_id},
                )
            signoff = CheckSignOff(learner_id, rng.choice(CHECKS))
            assert repository.apply(
                volunteer_id, volunteer_version, Changes("menu", {}, check_signoffs=(signoff,))
            )
            learners = [(lid, ver + 1 if lid == volunteer_id else ver) for lid, ver in learners]
            continue
        elif action < 0.75:
            repository.delete_learner(learner_id)
            continue
        else:
            # Raw rows with timestamps of the past, as tests and restores write them.
            at = T0 + dt.timedelta(hours=rng.uniform(0, 24 * 10))
            with engine.begin() as connection:
                if rng.random() < 0.7:
                    connection.execute(
                        sa.text(
                            "INSERT INTO progress_event (learner_id, lesson_id, kind, created_at)"
                            " VALUES (:id, :lesson, :kind, :at)"
                        ),
                        {
                            "id": learner_id,
                            "lesson": rng.choice(LESSONS),
                            "kind": rng.choice(KINDS).value,
                            "at": _stored(engine, at),
                        },
                    )
                else:
                    connection.execute(
                        sa.text(
                            "INSERT INTO hands_on_check (learner_id, check_id, signed_at)"
                            " SELECT :id, CAST(:check AS VARCHAR(40)), :at WHERE NOT EXISTS"
                            " (SELECT 1 FROM hands_on_check WHERE learner_id = :id"
                            " AND check_id = CAST(:check AS VARCHAR(40)))"
                        ),
                        {"id": learner_id, "check": rng.choice(CHECKS), "at": _stored(engine, at)},
                    )
            continue
    with engine.begin() as connection:
        # Some learners created in the past, so the created_at condition matters too.
        for learner_id, _ in rng.sample(learners, k=min(3, len(learners))):
            connection.execute(
                sa.text("UPDATE learner SET created_at = :at WHERE id = :id"),
                {
                    "at": _stored(engine, T0 + dt.timedelta(hours=rng.uniform(0, 240))),
                    "id": learner_id,
                },
            )


def _version(engine: Engine, learner_id: int) -> int | None:
    with engine.connect() as connection:
        return connection.execute(
            sa.text("SELECT version FROM conversation WHERE learner_id = :id"), {"id": learner_id}
        ).scalar_one_or_none()


def _stored(engine: Engine, at: dt.datetime) -> object:
    # The text SQLAlchemy's SQLite DateTime stores, or the aware datetime for PostgreSQL.
    if engine.dialect.name == "sqlite":
        return at.astimezone(dt.UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    return at


@pytest.mark.parametrize("seed", [1, 2])
def test_rollup_counts_equal_raw_counts(migrated_engine: Engine, seed: int) -> None:
    rng = random.Random(seed)
    repository = SqlRepository(migrated_engine)
    assert sync_rollup(migrated_engine, PATHS)
    assert not sync_rollup(migrated_engine, PATHS)
    for _ in range(4):
        _random_round(migrated_engine, repository, rng)
        latest = _assert_equal(migrated_engine, PATHS, rng)
    # The rounds reached every figure, so the equality above means something.
    assert all(
        sum(getattr(count, figure) for count in latest) > 0
        for figure in ("core_completed", "hands_on", "vneid_confirmed")
    )
    # Built from the raw rows at once: the same as maintained row by row.
    with migrated_engine.connect() as connection:
        kept = connection.execute(sa.text("SELECT * FROM learner_milestone ORDER BY 1")).all()
    assert sync_rollup(migrated_engine, PATHS, force=True)
    with migrated_engine.connect() as connection:
        rebuilt = connection.execute(sa.text("SELECT * FROM learner_milestone ORDER BY 1")).all()
    assert [row for row in kept if any(row[1:])] == rebuilt
    # Content edited: the old rollup is not used (raw counts), then rebuilt for the new paths.
    instants = _instants(rng)
    assert coverage_counts_at(migrated_engine, OTHER_PATHS, instants) == coverage_counts_at(
        migrated_engine, OTHER_PATHS, instants, rollup=False
    )
    assert sync_rollup(migrated_engine, OTHER_PATHS)
    _random_round(migrated_engine, repository, rng)
    _assert_equal(migrated_engine, OTHER_PATHS, rng)


def test_without_a_rollup_the_raw_rows_are_counted(migrated_engine: Engine) -> None:
    with migrated_engine.connect() as connection:
        assert stored_fingerprint(connection) is None
    instants = [T0]
    assert coverage_counts_at(migrated_engine, PATHS, instants) == coverage_counts_at(
        migrated_engine, PATHS, instants, rollup=False
    )
