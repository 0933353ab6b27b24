"""Weekly reminders in storage: written with the step, claimed once, never lost on restart."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from bot.engine import Repository
from storage.db import make_engine
from storage.records import Changes, Consent, LearnerKey, ReminderChange
from storage.reminders import DueReminder, SqlReminders
from storage.repository import SqlRepository

NOW = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)  # 12:00 in Vietnam
NEXT_WEEK = NOW + timedelta(days=7)
PUSH = ("telegram", "zalo")
WEEK = timedelta(days=7)
REMINDER = SQLModel.metadata.tables["reminder"]


def _learner_with_reminder(
    repository: Repository, chat: str, at: datetime | None, channel: str = "telegram"
) -> int:
    key = LearnerKey(channel, chat)
    created = repository.enrol(key, Consent("2026-01"), "menu", {})
    assert created is not None
    if at is not None:
        changes = Changes("menu", {}, reminder=ReminderChange(at))
        assert repository.apply(created.learner_id, created.version, changes)
    return created.learner_id


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _reminder_rows(engine: Engine) -> dict[int, tuple[datetime, datetime | None]]:
    """Every reminder row: learner id -> (next_at, last_sent_at), as aware UTC times."""
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(REMINDER.c.learner_id, REMINDER.c.next_at, REMINDER.c.last_sent_at)
        ).all()
    return {row.learner_id: (row.next_at, row.last_sent_at) for row in rows}


# -- through the engine's repository (memory, SQLite, PostgreSQL alike) -------------------


def test_reminders_are_off_until_a_step_turns_them_on(repository: Repository) -> None:
    key = LearnerKey("telegram", "1")
    created = repository.enrol(key, Consent("2026-01"), "menu", {})
    assert created is not None and created.reminder_at is None
    loaded = repository.load(key)
    assert loaded is not None and loaded.reminder_at is None

    on = Changes("menu", {}, reminder=ReminderChange(NEXT_WEEK))
    assert repository.apply(created.learner_id, 1, on)
    loaded = repository.load(key)
    assert loaded is not None and loaded.reminder_at == NEXT_WEEK
    assert loaded.reminder_at.tzinfo is not None

    # A step that says nothing about reminders leaves them as they are.
    assert repository.apply(created.learner_id, 2, Changes("skills", {}))
    loaded = repository.load(key)
    assert loaded is not None and loaded.reminder_at == NEXT_WEEK

    off = Changes("menu", {}, reminder=ReminderChange(None))
    assert repository.apply(created.learner_id, 3, off)
    loaded = repository.load(key)
    assert loaded is not None and loaded.reminder_at is None


def test_turning_on_again_moves_the_time(repository: Repository) -> None:
    key = LearnerKey("zalo", "2")
    created = repository.enrol(key, Consent("2026-01"), "menu", {})
    assert created is not None
    later = NEXT_WEEK + timedelta(hours=3)
    assert repository.apply(
        created.learner_id, 1, Changes("menu", {}, reminder=ReminderChange(NEXT_WEEK))
    )
    assert repository.apply(
        created.learner_id, 2, Changes("menu", {}, reminder=ReminderChange(later))
    )
    loaded = repository.load(key)
    assert loaded is not None and loaded.reminder_at == later


def test_a_stale_step_turns_nothing_on(repository: Repository) -> None:
    key = LearnerKey("telegram", "3")
    created = repository.enrol(key, Consent("2026-01"), "menu", {})
    assert created is not None
    assert repository.apply(created.learner_id, 1, Changes("skills", {}))
    stale = Changes("menu", {}, reminder=ReminderChange(NEXT_WEEK))
    assert not repository.apply(created.learner_id, 1, stale)
    loaded = repository.load(key)
    assert loaded is not None and loaded.reminder_at is None


def test_naive_times_are_refused(repository: Repository) -> None:
    key = LearnerKey("telegram", "4")
    created = repository.enrol(key, Consent("2026-01"), "menu", {})
    assert created is not None
    naive = Changes("menu", {}, reminder=ReminderChange(datetime(2026, 11, 30, 12, 0)))
    with pytest.raises((ValueError, sa.exc.StatementError)):
        repository.apply(created.learner_id, 1, naive)
    loaded = repository.load(key)
    assert loaded is not None and loaded.reminder_at is None and loaded.version == 1


def test_deleting_the_learner_deletes_the_reminder(repository: Repository) -> None:
    key = LearnerKey("telegram", "5")
    learner_id = _learner_with_reminder(repository, "5", NEXT_WEEK)
    repository.delete_learner(learner_id)
    assert repository.load(key) is None
    again = repository.enrol(key, Consent("2026-01"), "menu", {})
    assert again is not None and again.reminder_at is None
    if isinstance(repository, SqlRepository):
        assert _reminder_rows(repository.engine) == {}


# -- claiming due reminders (SQLite and PostgreSQL) ----------------------------------------


def test_only_due_reminders_on_sendable_channels_are_claimed(migrated_engine: Engine) -> None:
    repository = SqlRepository(migrated_engine)
    due_tg = _learner_with_reminder(repository, "10", NOW - timedelta(minutes=1))
    due_zalo = _learner_with_reminder(repository, "11", NOW, channel="zalo")
    _learner_with_reminder(repository, "12", NOW + timedelta(seconds=1))
    _learner_with_reminder(repository, "13", NOW - timedelta(days=1), channel="web")
    _learner_with_reminder(repository, "14", None)
    store = SqlReminders(migrated_engine)

    claimed = store.claim_due(NOW, NEXT_WEEK, PUSH, limit=10)

    assert sorted((c.learner_id, c.channel, c.chat_id) for c in claimed) == [
        (due_tg, "telegram", "10"),
        (due_zalo, "zalo", "11"),
    ]
    assert all(c.next_at == NEXT_WEEK and c.previous_sent_at is None for c in claimed)
    rows = _reminder_rows(migrated_engine)
    assert rows[due_tg] == (NEXT_WEEK, NOW)
    # Claimed means rescheduled: asking again at the same instant finds nothing.
    assert store.claim_due(NOW, NEXT_WEEK, PUSH, limit=10) == []
    # Only the channels asked for.
    assert store.claim_due(NOW, NEXT_WEEK, ("telegram",), limit=10) == []
    assert store.claim_due(NOW, NEXT_WEEK, (), limit=10) == []


def test_a_week_is_claimed_once_then_again_a_week_later(migrated_engine: Engine) -> None:
    repository = SqlRepository(migrated_engine)
    learner = _learner_with_reminder(repository, "20", NOW)
    store = SqlReminders(migrated_engine)
    assert [c.learner_id for c in store.claim_due(NOW, NEXT_WEEK, PUSH)] == [learner]
    # Days later: not yet due.
    assert store.claim_due(NOW + timedelta(days=6, hours=23), NEXT_WEEK + WEEK, PUSH) == []
    again = store.claim_due(NEXT_WEEK, NEXT_WEEK + WEEK, PUSH)
    assert [(c.learner_id, c.previous_sent_at) for c in again] == [(learner, NOW)]


def test_never_twice_within_seven_days_even_if_next_at_says_so(migrated_engine: Engine) -> None:
    repository = SqlRepository(migrated_engine)
    learner = _learner_with_reminder(repository, "30", NOW)
    store = SqlReminders(migrated_engine)
    assert store.claim_due(NOW, NEXT_WEEK, PUSH)
    # Someone (an operator's UPDATE, a bug) makes the row due again two days later.
    with migrated_engine.begin() as connection:
        connection.execute(
            sa.update(REMINDER)
            .where(REMINDER.c.learner_id == learner)
            .values(next_at=NOW + timedelta(days=1))
        )
    assert store.claim_due(NOW + timedelta(days=2), NEXT_WEEK, PUSH) == []
    assert store.claim_due(NOW + WEEK, NEXT_WEEK + WEEK, PUSH)


def test_a_failed_send_is_due_again_soon_not_next_week(migrated_engine: Engine) -> None:
    repository = SqlRepository(migrated_engine)
    learner = _learner_with_reminder(repository, "40", NOW - timedelta(hours=1))
    store = SqlReminders(migrated_engine)
    (claimed,) = store.claim_due(NOW, NEXT_WEEK, PUSH)
    soon = NOW + timedelta(minutes=1)
    assert store.retry(claimed, soon)
    assert store.next_due_at(PUSH) == soon
    assert store.claim_due(NOW, NEXT_WEEK, PUSH) == []
    (again,) = store.claim_due(soon, soon + WEEK, PUSH)
    assert again.learner_id == learner and again.previous_sent_at is None


def test_a_retry_never_overrides_the_learners_own_choice(migrated_engine: Engine) -> None:
    repository = SqlRepository(migrated_engine)
    key = LearnerKey("telegram", "50")
    learner = _learner_with_reminder(repository, "50", NOW)
    store = SqlReminders(migrated_engine)
    (claimed,) = store.claim_due(NOW, NEXT_WEEK, PUSH)
    # Meanwhile the learner types "dừng nhắc".
    snapshot = repository.load(key)
    assert snapshot is not None
    stop = Changes("menu", {}, reminder=ReminderChange(None))
    assert repository.apply(learner, snapshot.version, stop)
    assert not store.retry(claimed, NOW + timedelta(minutes=1))
    assert _reminder_rows(migrated_engine) == {}
    assert store.next_due_at(PUSH) is None


def test_a_restart_finds_every_due_reminder(migrated_engine: Engine) -> None:
    repository = SqlRepository(migrated_engine)
    learners = {
        _learner_with_reminder(repository, str(60 + i), NOW - timedelta(days=i)) for i in range(3)
    }
    # A brand-new engine and store, as after the process restarted.
    fresh = make_engine(_url(migrated_engine))
    try:
        store = SqlReminders(fresh)
        assert store.next_due_at(PUSH) == NOW - timedelta(days=2)
        claimed = store.claim_due(NOW, NEXT_WEEK, PUSH, limit=10)
        assert {c.learner_id for c in claimed} == learners
        # Oldest first.
        assert [c.chat_id for c in claimed] == ["62", "61", "60"]
    finally:
        if fresh.dialect.name == "sqlite":
            fresh.dispose()


def test_the_limit_caps_one_claim(migrated_engine: Engine) -> None:
    repository = SqlRepository(migrated_engine)
    for i in range(5):
        _learner_with_reminder(repository, str(70 + i), NOW - timedelta(minutes=i))
    store = SqlReminders(migrated_engine)
    assert len(store.claim_due(NOW, NEXT_WEEK, PUSH, limit=2)) == 2
    assert len(store.claim_due(NOW, NEXT_WEEK, PUSH, limit=2)) == 2
    assert len(store.claim_due(NOW, NEXT_WEEK, PUSH, limit=2)) == 1
    assert store.claim_due(NOW, NEXT_WEEK, PUSH, limit=0) == []


def test_claimers_racing_never_both_get_one_reminder(migrated_engine: Engine) -> None:
    repository = SqlRepository(migrated_engine)
    expected = {
        _learner_with_reminder(repository, str(100 + i), NOW - timedelta(seconds=i))
        for i in range(60)
    }
    # Several "processes": each has its own engine, so its own connections.
    engines = [make_engine(_url(migrated_engine)) for _ in range(4)]
    start = threading.Barrier(len(engines))
    got: list[list[DueReminder]] = [[] for _ in engines]
    errors: list[BaseException] = []

    def claim(index: int) -> None:
        store = SqlReminders(engines[index])
        try:
            start.wait()
            while batch := store.claim_due(NOW, NEXT_WEEK, PUSH, limit=3):
                got[index].extend(batch)
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(len(engines))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for engine in engines:
        engine.dispose()
    assert errors == []
    claimed = [c.learner_id for batch in got for c in batch]
    assert sorted(claimed) == sorted(expected)  # each exactly once
    assert len(set(claimed)) == len(claimed)


@pytest.mark.postgres
def test_postgres_skips_a_reminder_another_worker_holds(
    postgres_url: str, _postgres_session_engine: Engine
) -> None:
    migrated_engine = _postgres_session_engine
    repository = SqlRepository(migrated_engine)
    held = _learner_with_reminder(repository, "200", NOW - timedelta(hours=1))
    free = _learner_with_reminder(repository, "201", NOW)
    store = SqlReminders(migrated_engine)
    with migrated_engine.connect() as other, other.begin():
        other.execute(
            sa.text("SELECT 1 FROM reminder WHERE learner_id = :id FOR UPDATE"), {"id": held}
        )
        started = time.monotonic()
        claimed = store.claim_due(NOW, NEXT_WEEK, PUSH, limit=10)
        waited = time.monotonic() - started
    assert [c.learner_id for c in claimed] == [free]
    assert waited < 2.0, "the claim waited for a locked row instead of skipping it"
    # Released: the held one is claimable now.
    assert [c.learner_id for c in store.claim_due(NOW, NEXT_WEEK, PUSH)] == [held]
