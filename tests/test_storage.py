"""The repository contract, run on every backend (memory, SQLite, PostgreSQL)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from types import MappingProxyType

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import StatementError
from sqlmodel import SQLModel

from bot.engine.ports import Repository
from storage.memory import MemoryRepository
from storage.models import RAW_TEXT_MAX, START_PAYLOAD_MAX
from storage.records import (
    Changes,
    Consent,
    EventKind,
    LearnerKey,
    LearnerSnapshot,
    Profile,
    ProgressEvent,
    QuizAnswer,
)
from storage.repository import SqlRepository

KEY = LearnerKey(channel="telegram", chat_id="100200300")
OTHER_KEY = LearnerKey(channel="zalo", chat_id="100200300")
CONSENT = Consent(version="2025-07")
PROFILE = Profile(target_group="nguoi_cao_tuoi", hamlet_id="thon-3", birth_year=1958)
LEARNER_TABLES = ("applied_update", "quiz_answer", "progress_event", "conversation", "consent")


def _enrol(repository: Repository, key: LearnerKey = KEY) -> LearnerSnapshot:
    snapshot = repository.enrol(key, CONSENT, "profile.group", {"step": 1})
    assert snapshot is not None
    return snapshot


def _load(repository: Repository, key: LearnerKey = KEY) -> LearnerSnapshot:
    snapshot = repository.load(key)
    assert snapshot is not None
    return snapshot


def _stored_answers(repository: Repository, learner_id: int) -> list[QuizAnswer]:
    if isinstance(repository, MemoryRepository):
        return repository.answers(learner_id)
    assert isinstance(repository, SqlRepository)
    table = SQLModel.metadata.tables["quiz_answer"]
    with repository.engine.connect() as connection:
        rows = connection.execute(
            sa.select(table).where(table.c.learner_id == learner_id).order_by(table.c.id)
        ).all()
    return [
        QuizAnswer(
            lesson_id=row.lesson_id,
            question_id=row.question_id,
            attempt=row.attempt,
            correct=row.correct,
            option_index=row.option_index,
            raw_text=row.raw_text,
        )
        for row in rows
    ]


def _stored_events(repository: Repository, learner_id: int) -> list[ProgressEvent]:
    if isinstance(repository, MemoryRepository):
        return repository.events(learner_id)
    assert isinstance(repository, SqlRepository)
    table = SQLModel.metadata.tables["progress_event"]
    with repository.engine.connect() as connection:
        rows = connection.execute(
            sa.select(table).where(table.c.learner_id == learner_id).order_by(table.c.id)
        ).all()
    return [ProgressEvent(row.lesson_id, EventKind(row.kind), row.score, row.total) for row in rows]


def _rows_about(repository: SqlRepository, learner_id: int) -> dict[str, int]:
    tables = SQLModel.metadata.tables
    with repository.engine.connect() as connection:
        counts = {
            name: connection.execute(
                sa.select(sa.func.count()).where(tables[name].c.learner_id == learner_id)
            ).scalar_one()
            for name in LEARNER_TABLES
        }
        counts["learner"] = connection.execute(
            sa.select(sa.func.count()).where(tables["learner"].c.id == learner_id)
        ).scalar_one()
    return counts


def _quiz_step(state: str = "quiz.q1", version_note: str = "") -> Changes:
    return Changes(
        state=state,
        data={"lesson": "vneid-1", "note": version_note},
        profile=PROFILE,
        events=(
            ProgressEvent("vneid-1", EventKind.LESSON_READ),
            ProgressEvent("vneid-1", EventKind.QUIZ_STARTED),
            ProgressEvent("vneid-1", EventKind.QUIZ_FAILED, score=1, total=3),
            ProgressEvent("vneid-1", EventKind.QUIZ_STARTED),
            ProgressEvent("vneid-1", EventKind.QUIZ_PASSED, score=3, total=3),
            ProgressEvent("qr-pay", EventKind.QUIZ_STARTED),
        ),
        answers=(
            QuizAnswer("vneid-1", "q1", attempt=1, correct=False, option_index=2),
            QuizAnswer("vneid-1", "q1", attempt=2, correct=True, option_index=0),
            QuizAnswer("vneid-1", "q2", attempt=2, correct=True, raw_text="có ạ"),
        ),
    )


def test_load_of_unknown_chat_is_none(repository: Repository) -> None:
    assert repository.load(KEY) is None


def test_enrol_creates_first_version(repository: Repository) -> None:
    snapshot = _enrol(repository)

    assert snapshot.key == KEY
    assert snapshot.version == 1
    assert snapshot.state == "profile.group"
    assert dict(snapshot.data) == {"step": 1}
    assert snapshot.profile == Profile()
    assert snapshot.completed_lessons == frozenset()
    assert dict(snapshot.quiz_attempts) == {}
    assert _load(repository) == snapshot


def test_second_enrol_of_same_chat_returns_none(repository: Repository) -> None:
    first = _enrol(repository)

    assert repository.enrol(KEY, CONSENT, "other", {"step": 9}) is None
    assert _load(repository) == first


def test_same_chat_id_on_another_channel_is_another_learner(repository: Repository) -> None:
    first = _enrol(repository, KEY)
    second = _enrol(repository, OTHER_KEY)

    assert first.learner_id != second.learner_id
    assert _load(repository, OTHER_KEY).key == OTHER_KEY


def test_unknown_consent_method_is_refused(repository: Repository) -> None:
    with pytest.raises(ValueError, match="consent method"):
        repository.enrol(KEY, Consent(version="2025-07", method="guessed"), "s", {})

    assert repository.load(KEY) is None


def test_in_person_consent_is_accepted(repository: Repository) -> None:
    snapshot = repository.enrol(KEY, Consent("2025-07", method="in_person"), "s", {})

    assert snapshot is not None


def test_apply_at_current_version_writes_the_whole_step(repository: Repository) -> None:
    learner_id = _enrol(repository).learner_id
    changes = _quiz_step()

    assert repository.apply(learner_id, 1, changes) is True

    snapshot = _load(repository)
    assert snapshot.version == 2
    assert snapshot.state == "quiz.q1"
    assert dict(snapshot.data) == {"lesson": "vneid-1", "note": ""}
    assert snapshot.profile == PROFILE
    assert snapshot.completed_lessons == frozenset({"vneid-1"})
    assert dict(snapshot.quiz_attempts) == {"vneid-1": 2, "qr-pay": 1}
    assert _stored_events(repository, learner_id) == list(changes.events)
    assert _stored_answers(repository, learner_id) == list(changes.answers)


def test_steps_in_a_row_accumulate(repository: Repository) -> None:
    learner_id = _enrol(repository).learner_id
    assert repository.apply(learner_id, 1, _quiz_step("a"))
    assert repository.apply(learner_id, 2, Changes(state="b", data={}))
    passed = Changes(
        state="c",
        data={"done": True},
        events=(
            ProgressEvent("qr-pay", EventKind.QUIZ_STARTED),
            ProgressEvent("qr-pay", EventKind.QUIZ_PASSED, 4, 4),
        ),
    )
    assert repository.apply(learner_id, 3, passed)

    snapshot = _load(repository)
    assert snapshot.version == 4
    assert snapshot.state == "c"
    assert dict(snapshot.data) == {"done": True}
    # A step without a profile leaves the profile alone.
    assert snapshot.profile == PROFILE
    assert snapshot.completed_lessons == frozenset({"vneid-1", "qr-pay"})
    assert dict(snapshot.quiz_attempts) == {"vneid-1": 2, "qr-pay": 2}


def test_profile_is_replaced_as_a_whole(repository: Repository) -> None:
    learner_id = _enrol(repository).learner_id
    assert repository.apply(learner_id, 1, Changes(state="s", data={}, profile=PROFILE))
    assert repository.apply(
        learner_id, 2, Changes(state="s", data={}, profile=Profile(target_group="hoc_sinh"))
    )

    assert _load(repository).profile == Profile(target_group="hoc_sinh")


def test_apply_at_stale_version_writes_nothing(repository: Repository) -> None:
    learner_id = _enrol(repository).learner_id
    assert repository.apply(learner_id, 1, Changes(state="first", data={"n": 1}))
    before = _load(repository)

    assert repository.apply(learner_id, 1, _quiz_step("stale")) is False

    assert _load(repository) == before
    assert _stored_events(repository, learner_id) == []
    assert _stored_answers(repository, learner_id) == []


def test_apply_to_unknown_learner_is_refused(repository: Repository) -> None:
    assert repository.apply(424242, 1, _quiz_step()) is False


def test_delete_deidentifies_the_learner_and_a_new_enrol_starts_afresh(
    repository: Repository,
) -> None:
    learner_id = _enrol(repository).learner_id
    other = _enrol(repository, OTHER_KEY)
    assert repository.apply(learner_id, 1, replace(_quiz_step(), update_id="u-1"))
    assert repository.apply(other.learner_id, 1, replace(_quiz_step(), update_id="u-2"))
    events = _stored_events(repository, learner_id)
    answers = _stored_answers(repository, learner_id)

    repository.delete_learner(learner_id)

    assert repository.load(KEY) is None
    assert not repository.is_applied(KEY, "u-1")
    assert repository.is_applied(OTHER_KEY, "u-2")
    # Progress and answers stay for the counts (tests/test_deletion.py), typed text goes.
    assert _stored_events(repository, learner_id) == events
    assert _stored_answers(repository, learner_id) == [replace(a, raw_text=None) for a in answers]
    if isinstance(repository, SqlRepository):
        kept = {"learner": 1, "progress_event": len(events), "quiz_answer": len(answers)}
        assert _rows_about(repository, learner_id) == dict.fromkeys(LEARNER_TABLES, 0) | kept
    assert _load(repository, OTHER_KEY).version == 2
    assert len(_stored_answers(repository, other.learner_id)) == 3

    again = _enrol(repository)
    assert again.learner_id != learner_id
    assert again.version == 1
    assert again.profile == Profile()
    assert again.completed_lessons == frozenset()


def test_stale_step_of_a_deleted_learner_cannot_reach_a_newcomer(
    repository: Repository,
) -> None:
    gone = _enrol(repository).learner_id
    repository.delete_learner(gone)
    newcomer = _enrol(repository)

    assert repository.apply(gone, 1, _quiz_step("stale")) is False
    assert _load(repository) == newcomer


def test_delete_of_unknown_learner_is_harmless(repository: Repository) -> None:
    snapshot = _enrol(repository)

    repository.delete_learner(snapshot.learner_id + 1000)

    assert _load(repository) == snapshot


def test_unicode_emoji_and_huge_text_survive(repository: Repository) -> None:
    data = {
        "name": "Nguyễn Thị Ánh Đào 👵🏻",
        "reply": "Dạ, cháu cảm ơn bà ạ! 🎉✅ 👨‍👩‍👧",
        "big": "Bình dân học vụ số đ " * 20_000,
        "nested": {"list": [1, "hai", None, True, 2.5], "empty": {}},
    }
    learner_id = _enrol(repository).learner_id
    long_text = "ấ" * (RAW_TEXT_MAX + 500)
    answers = (
        QuizAnswer("vneid-1", "q1", attempt=1, correct=False, raw_text="Tôi không biết 🤷‍♀️"),
        QuizAnswer("vneid-1", "q2", attempt=1, correct=False, raw_text=long_text),
        QuizAnswer("vneid-1", "q3", attempt=1, correct=True, option_index=1),
    )

    assert repository.apply(learner_id, 1, Changes(state="s", data=data, answers=answers))

    assert dict(_load(repository).data) == data
    stored = [answer.raw_text for answer in _stored_answers(repository, learner_id)]
    assert stored == ["Tôi không biết 🤷‍♀️", "ấ" * RAW_TEXT_MAX, None]


def test_typed_text_that_databases_reject_is_made_storable(repository: Repository) -> None:
    learner_id = _enrol(repository).learner_id
    answers = (
        QuizAnswer("l", "q1", attempt=1, correct=False, raw_text="a\x00b"),
        # A lone surrogate arrives from JSON like "\ud83d"; it cannot be encoded as UTF-8.
        QuizAnswer("l", "q2", attempt=1, correct=False, raw_text="x\ud83dy"),
    )

    assert repository.apply(learner_id, 1, Changes(state="s", data={}, answers=answers))

    stored = [answer.raw_text for answer in _stored_answers(repository, learner_id)]
    assert stored == ["ab", "x?y"]


def test_data_comes_back_as_plain_json(repository: Repository) -> None:
    frozen = MappingProxyType({"pair": (1, 2), "inner": MappingProxyType({"k": "v"})})
    snapshot = repository.enrol(KEY, CONSENT, "s", frozen)
    assert snapshot is not None
    expected = {"pair": [1, 2], "inner": {"k": "v"}}

    assert dict(snapshot.data) == expected
    loaded = _load(repository)
    assert dict(loaded.data) == expected
    # Mutating what a load returned must not change what is stored.
    loaded.data["inner"]["k"] = "changed"
    assert dict(_load(repository).data) == expected


def test_unserialisable_data_is_refused_and_nothing_written(repository: Repository) -> None:
    learner_id = _enrol(repository).learner_id

    with pytest.raises(TypeError):
        repository.apply(learner_id, 1, Changes(state="s", data={"when": datetime.now(UTC)}))

    assert _load(repository).version == 1


# How times are stored is a matter for the SQL backends only.
sql_backends = pytest.mark.parametrize(
    "repository",
    ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
    indirect=True,
)


def _sql_only(repository: Repository) -> SqlRepository:
    assert isinstance(repository, SqlRepository)
    return repository


@sql_backends
def test_times_are_stored_in_utc(repository: Repository) -> None:
    sql = _sql_only(repository)
    learner_id = _enrol(sql).learner_id
    assert sql.apply(learner_id, 1, _quiz_step())
    tables = SQLModel.metadata.tables
    columns = [
        tables["learner"].c.created_at,
        tables["consent"].c.given_at,
        tables["conversation"].c.updated_at,
        tables["progress_event"].c.created_at,
        tables["quiz_answer"].c.created_at,
    ]

    with sql.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            # A server in Vietnam: values must still come back as UTC.
            connection.exec_driver_sql("SET TIME ZONE 'Asia/Ho_Chi_Minh'")
        times = [connection.execute(sa.select(column)).scalars().first() for column in columns]
        raw = connection.exec_driver_sql(
            "SELECT created_at AT TIME ZONE 'UTC' FROM progress_event LIMIT 1"
            if connection.dialect.name == "postgresql"
            else "SELECT created_at FROM progress_event LIMIT 1"
        ).scalar_one()

    now = datetime.now(UTC)
    for value in times:
        assert isinstance(value, datetime)
        assert value.utcoffset() == timedelta(0)
        assert abs(now - value) < timedelta(minutes=1)
    # What the database itself holds is UTC wall-clock time, not the server's local time.
    raw_time = raw if isinstance(raw, datetime) else datetime.fromisoformat(raw)
    assert abs(now.replace(tzinfo=None) - raw_time.replace(tzinfo=None)) < timedelta(minutes=1)


@sql_backends
def test_times_from_other_zones_are_converted_to_utc(repository: Repository) -> None:
    sql = _sql_only(repository)
    learner_id = _enrol(sql).learner_id
    table = SQLModel.metadata.tables["progress_event"]
    hanoi = datetime(2025, 9, 2, 7, 30, tzinfo=timezone(timedelta(hours=7)))

    with sql.engine.begin() as connection:
        connection.execute(
            sa.insert(table).values(
                learner_id=learner_id, lesson_id="l", kind="lesson_read", created_at=hanoi
            )
        )
        stored = connection.execute(sa.select(table.c.created_at)).scalar_one()

    assert stored == datetime(2025, 9, 2, 0, 30, tzinfo=UTC)
    assert stored.tzinfo is UTC


@sql_backends
def test_naive_times_are_refused(repository: Repository) -> None:
    sql = _sql_only(repository)
    learner_id = _enrol(sql).learner_id
    table = SQLModel.metadata.tables["progress_event"]

    with pytest.raises(StatementError, match="naive datetime"), sql.engine.begin() as connection:
        connection.execute(
            sa.insert(table).values(
                learner_id=learner_id, lesson_id="l", kind="k", created_at=datetime(2025, 1, 1)
            )
        )


def test_concurrent_steps_at_same_version_exactly_one_wins(repository: Repository) -> None:
    workers = 8
    learner_id = _enrol(repository).learner_id
    barrier = threading.Barrier(workers, timeout=30)

    def step(worker: int) -> bool:
        changes = Changes(
            state=f"worker-{worker}",
            data={"worker": worker},
            events=(ProgressEvent("vneid-1", EventKind.QUIZ_STARTED),),
            answers=(QuizAnswer("vneid-1", "q1", attempt=1, correct=True, raw_text=str(worker)),),
        )
        barrier.wait()
        return repository.apply(learner_id, 1, changes)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(step, range(workers)))

    assert results.count(True) == 1
    winner = results.index(True)
    snapshot = _load(repository)
    assert snapshot.version == 2
    assert snapshot.state == f"worker-{winner}"
    assert dict(snapshot.data) == {"worker": winner}
    assert dict(snapshot.quiz_attempts) == {"vneid-1": 1}
    assert [a.raw_text for a in _stored_answers(repository, learner_id)] == [str(winner)]


def test_concurrent_enrols_of_one_chat_create_one_learner(repository: Repository) -> None:
    workers = 8
    barrier = threading.Barrier(workers, timeout=30)

    def enrol(worker: int) -> LearnerSnapshot | None:
        barrier.wait()
        return repository.enrol(KEY, CONSENT, f"worker-{worker}", {"worker": worker})

    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(enrol, range(workers)))

    created = [snapshot for snapshot in results if snapshot is not None]
    assert len(created) == 1
    assert _load(repository) == created[0]


# Exactly-once steps: a platform update answered by a written step is never applied again.


def test_a_step_answering_an_update_is_applied_once(repository: Repository) -> None:
    learner_id = _enrol(repository).learner_id
    first = Changes(
        state="lesson",
        data={"card": 1},
        events=(ProgressEvent("vneid-1", EventKind.LESSON_STARTED),),
        update_id="9001",
    )
    assert repository.is_applied(KEY, "9001") is False

    assert repository.apply(learner_id, 1, first) is True
    before = _load(repository)
    again = replace(_quiz_step("redelivered"), update_id="9001", start_payload="thon-9")

    assert repository.apply(learner_id, 2, again) is False

    assert _load(repository) == before
    assert _stored_events(repository, learner_id) == list(first.events)
    assert _stored_answers(repository, learner_id) == []


def test_load_says_whether_the_update_was_applied_in_the_same_read(
    repository: Repository,
) -> None:
    learner_id = _enrol(repository).learner_id
    assert repository.apply(learner_id, 1, Changes(state="s", data={}, update_id="9001"))

    loaded = repository.load(KEY, "9001")
    assert loaded is not None and loaded.update_applied is True
    assert loaded.state == "s"
    unseen = repository.load(KEY, "9002")
    assert unseen is not None and unseen.update_applied is False
    plain = repository.load(KEY)
    assert plain is not None and plain.update_applied is False


def test_is_applied_is_per_channel(repository: Repository) -> None:
    learner_id = _enrol(repository).learner_id
    assert repository.apply(learner_id, 1, Changes(state="s", data={}, update_id="9001"))

    assert repository.is_applied(KEY, "9001") is True
    # Telegram's update ids number the bot's updates, not one chat's.
    assert repository.is_applied(LearnerKey(KEY.channel, "another chat"), "9001") is True
    assert repository.is_applied(OTHER_KEY, "9001") is False
    assert repository.is_applied(KEY, "9002") is False


def test_steps_without_update_id_are_not_deduplicated(repository: Repository) -> None:
    learner_id = _enrol(repository).learner_id

    assert repository.apply(learner_id, 1, Changes(state="a", data={}))
    assert repository.apply(learner_id, 2, Changes(state="b", data={}))

    assert _load(repository).version == 3


def test_enrol_records_its_update(repository: Repository) -> None:
    snapshot = repository.enrol(KEY, CONSENT, "profile.group", {}, update_id="9001")
    assert snapshot is not None

    assert repository.is_applied(KEY, "9001") is True
    # The same update answered again by a step is refused as well.
    refused = Changes(state="s", data={}, update_id="9001")
    assert repository.apply(snapshot.learner_id, 1, refused) is False
    assert _load(repository) == snapshot


def test_enrol_for_an_applied_update_stores_nothing(repository: Repository) -> None:
    assert repository.enrol(KEY, CONSENT, "s", {}, update_id="9001") is not None
    same_channel = LearnerKey(KEY.channel, "200300400")

    assert repository.enrol(same_channel, CONSENT, "s", {}, update_id="9001") is None

    assert repository.load(same_channel) is None
    # Nothing of the refused enrolment was kept: the chat can still enrol normally.
    assert repository.enrol(same_channel, CONSENT, "s", {}, update_id="9002") is not None
    assert repository.enrol(OTHER_KEY, CONSENT, "s", {}, update_id="9001") is not None


def test_concurrent_steps_answering_one_update_exactly_one_wins(
    repository: Repository,
) -> None:
    # Workers that somehow share an update across learners: the update still wins once.
    workers = 8
    learners = [
        _enrol(repository, LearnerKey(KEY.channel, f"chat-{n}")).learner_id for n in range(workers)
    ]
    barrier = threading.Barrier(workers, timeout=30)

    def step(worker: int) -> bool:
        changes = Changes(
            state="done",
            data={"worker": worker},
            events=(ProgressEvent("vneid-1", EventKind.LESSON_READ),),
            update_id="shared",
        )
        barrier.wait()
        return repository.apply(learners[worker], 1, changes)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(step, range(workers)))

    assert results.count(True) == 1
    for worker, learner_id in enumerate(learners):
        written = results[worker]
        snapshot = _load(repository, LearnerKey(KEY.channel, f"chat-{worker}"))
        assert snapshot.version == (2 if written else 1)
        assert len(_stored_events(repository, learner_id)) == (1 if written else 0)


# Deep links: `/start <payload>` is remembered on the learner.


def test_start_payload_is_stored_kept_and_replaced(repository: Repository) -> None:
    snapshot = repository.enrol(KEY, CONSENT, "s", {}, start_payload="vol-12")
    assert snapshot is not None
    assert snapshot.start_payload == "vol-12"
    assert _load(repository).start_payload == "vol-12"

    assert repository.apply(snapshot.learner_id, 1, _quiz_step())
    assert _load(repository).start_payload == "vol-12"

    assert repository.apply(
        snapshot.learner_id, 2, Changes(state="s", data={}, start_payload="thon-3")
    )
    loaded = _load(repository)
    assert loaded.start_payload == "thon-3"
    # Setting the payload leaves the profile alone, and the other way round.
    assert loaded.profile == PROFILE


def test_without_a_start_payload_there_is_none(repository: Repository) -> None:
    assert _enrol(repository).start_payload is None
    assert _load(repository).start_payload is None


def test_start_payloads_are_made_storable(repository: Repository) -> None:
    # Anyone can type "/start <anything>"; Telegram's own links carry at most 64 characters.
    snapshot = repository.enrol(KEY, CONSENT, "s", {}, start_payload="a\x00b" + "đ" * 100)
    assert snapshot is not None
    expected = ("ab" + "đ" * 100)[:START_PAYLOAD_MAX]

    assert snapshot.start_payload == expected
    assert _load(repository).start_payload == expected
