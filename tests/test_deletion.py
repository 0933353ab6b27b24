"""Deleting one's data: personal data gone, every official figure unchanged (issue 8).

A deletion de-identifies the learner (storage/deidentify.py): the learner row stays as an
anonymous unit of counting, progress and answers stay without anything that points to the
person. These tests build data through the engine and the repository, delete, and compare.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from dialog import FIXTURES, Dialog, Press, Say, make_engine, play
from sqlalchemy.engine import Engine
from stats_fixture import NOW, at, build_dataset, load_stats_content

from bot.content import TARGET_GROUPS, Content, load_content
from bot.engine import Incoming, Repository
from bot.paths import core_path
from storage.db import make_engine as make_database
from storage.db import migrate
from storage.deidentify import DELETED_CHANNEL
from storage.memory import MemoryRepository
from storage.records import LearnerKey
from storage.repository import SqlRepository
from storage.stats import (
    answer_counts,
    coverage_counts,
    lesson_funnels,
    period_counts,
    unanswered_questions,
)

NOTICE = "Bạn có đồng ý không?"
GROUP_Q = "Câu 1/3"
YEAR_Q = "Câu 3/3"
MENU = "Bạn muốn làm gì?"
CONFIRM = "Bạn muốn xóa hết dữ liệu của mình?"
DONE = "Đã xóa hết dữ liệu của bạn"

# The learner who deletes: things only they sent, to look for everywhere afterwards.
CHAT = "chat-xoa-8841"
BIRTH_YEAR = 1947
TYPED = "Bà Tư hỏi cháu Nam"
PAYLOAD = "thon3-loa"
NICKNAME = "Bà Tư xóm 3"

# Tables that hold only personal data of a learner: nothing of the deleted one may be left.
ERASED = ("conversation", "consent", "applied_update", "reminder", "review_item", "volunteer")
# Tables whose rows stay, anonymous, so the counts stay.
KEPT = ("progress_event", "quiz_answer", "hands_on_check")


def _start(dialog: Dialog, year: int) -> None:
    play(
        dialog,
        [
            (Say("xin chào"), NOTICE),
            (Press("Đồng ý"), GROUP_Q),
            (Press("Người dân"), "Câu 2/3"),
            (Press("Nà Lài"), YEAR_Q),
            (Say(str(year)), MENU),
        ],
    )


def _learn_everything_after_one_failure(dialog: Dialog) -> None:
    """The OTP quiz failed once (a wrong option, a wrong typed answer), then both passed."""
    play(
        dialog,
        [
            (Press("Học tiếp"), "Thẻ một"),
            (Press("Tiếp"), "Thẻ hai"),
            (Press("Làm bài kiểm tra"), "Câu 1/2"),
            (Press("Đọc mã cho họ"), ("Chưa đúng", "Câu 2/2")),
            (Say(TYPED), "Cần đúng 2 câu"),
            (Press("Làm lại bài kiểm tra"), "Câu 1/2"),
            (Press("Cúp máy"), "Câu 2/2"),
            (Say("156"), "Chúc mừng"),
            (Press("Học bài tiếp theo"), "đọc kỹ tên người nhận"),
            (Press("Làm bài kiểm tra"), "Câu 1/1"),
            (Say("tên người nhận"), "Chúc mừng"),
        ],
    )


def _figures(
    engine: Engine, content: Content, starts: Sequence[datetime], as_of: datetime
) -> dict[str, Any]:
    """Every figure of storage/stats.py, as of an instant and (for the pace) 28 days before."""
    paths = {group: core_path(content, group) for group in TARGET_GROUPS}
    return {
        "coverage": coverage_counts(engine, paths, as_of),
        "coverage_28_days_before": coverage_counts(engine, paths, as_of - timedelta(days=28)),
        "funnels": lesson_funnels(engine, as_of),
        "answers": answer_counts(engine, as_of, min_answers=1),
        "periods": period_counts(engine, starts, as_of),
        "unanswered": unanswered_questions(engine, as_of, 100),
    }


def _learner_id(repository: Repository, chat: str = CHAT) -> int:
    snapshot = repository.load(LearnerKey("test", chat))
    assert snapshot is not None
    return snapshot.learner_id


def _add_the_rest(engine: Engine, learner_id: int) -> str:
    """Rows other features write (volunteering, reminders, reviews, checks, a certificate)."""
    now = datetime.now(UTC)
    with engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE learner SET nickname = :nickname WHERE id = :id"),
            {"nickname": NICKNAME, "id": learner_id},
        )
        connection.execute(
            sa.text(
                "INSERT INTO volunteer (learner_id, org, referral_code, joined_at)"
                " VALUES (:id, 'Đoàn Thanh niên', 'XOA234', :now)"
            ),
            {"id": learner_id, "now": now},
        )
        connection.execute(
            sa.text(
                "INSERT INTO reminder (learner_id, next_at, created_at) VALUES (:id, :at, :now)"
            ),
            {"id": learner_id, "at": now + timedelta(days=7), "now": now},
        )
        connection.execute(
            sa.text(
                "INSERT INTO review_item (learner_id, lesson_id, question_id, due_at,"
                " interval_days) VALUES (:id, 'demo-otp', 'q-extra', :at, 1)"
            ),
            {"id": learner_id, "at": now + timedelta(days=1)},
        )
        connection.execute(
            sa.text(
                "INSERT INTO hands_on_check (learner_id, check_id, signed_by, confirmed_on,"
                " signed_at) VALUES (:id, 'platform_confirmed', NULL, :on, :now)"
            ),
            {"id": learner_id, "on": date(2026, 11, 20), "now": now},
        )
        # A resident this learner helped as a volunteer.
        connection.execute(
            sa.text(
                "INSERT INTO learner (channel, chat_id, target_group, hamlet_id, created_at,"
                " assisted_by, nickname) VALUES ('assisted', 'tok-ba-nam', 'adult', 'na-lai',"
                " :now, :id, 'Bà Năm')"
            ),
            {"id": learner_id, "now": now},
        )
        code: str | None = connection.execute(
            sa.text("SELECT code FROM certificate WHERE learner_id = :id"), {"id": learner_id}
        ).scalar()
        if code is None:  # the engine may already have issued one for the core path
            code = "XOA-TEST-0001"
            connection.execute(
                sa.text(
                    "INSERT INTO certificate (code, learner_id, initials, hamlet_id,"
                    " target_group, issued_on, lessons) VALUES (:code, :id, 'B.T.', 'na-lai',"
                    " 'adult', :on, '[\"demo-otp\", \"demo-qr\"]')"
                ),
                {"code": code, "id": learner_id, "on": date(2026, 11, 23)},
            )
    return code


def _rows_of(engine: Engine, learner_id: int) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            table: connection.execute(
                sa.text(f"SELECT count(*) FROM {table} WHERE learner_id = :id"), {"id": learner_id}
            ).scalar_one()
            for table in (*ERASED, *KEPT)
        }


def _every_value(engine: Engine) -> Iterator[tuple[str, str, Any]]:
    """(table, column, value) for every cell of every table in the database."""
    metadata = sa.MetaData()
    metadata.reflect(engine)
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            for row in connection.execute(sa.select(table)).mappings():
                for column, value in row.items():
                    yield table.name, str(column), value


@pytest.fixture
def sql(migrated_engine: Engine) -> SqlRepository:
    return SqlRepository(migrated_engine)


def test_every_figure_is_the_same_after_a_learner_deletes(sql: SqlRepository) -> None:
    engine = sql.engine
    started = datetime.now(UTC)
    bot = make_engine(sql)
    leaving = Dialog(bot, CHAT)
    _start(leaving, BIRTH_YEAR)
    _learn_everything_after_one_failure(leaving)
    staying = Dialog(bot, "chat-o-lai-2203")
    _start(staying, 1970)
    play(staying, [(Press("Học tiếp"), "Thẻ một")])
    learner_id = _learner_id(sql)
    _add_the_rest(engine, learner_id)
    as_of = datetime.now(UTC) + timedelta(minutes=5)
    starts = [started - timedelta(days=7), started, as_of - timedelta(minutes=1)]
    content = load_content(FIXTURES)
    before = _figures(engine, content, starts, as_of)
    assert any(count.core_completed for count in before["coverage"])  # something to lose

    play(leaving, [(Say("/xoadulieu"), CONFIRM), (Press("Xóa hết dữ liệu"), DONE)])

    assert _figures(engine, content, starts, as_of) == before


def test_deleting_any_learner_of_the_stats_dataset_changes_no_figure(
    migrated_engine: Engine,
) -> None:
    dataset = build_dataset(migrated_engine)
    content = load_stats_content()
    starts = [at(f"2026-{month:02d}-01 00:00") for month in range(3, 12)] + [
        at("2026-11-15 17:00"),
        at("2026-11-22 17:00"),
    ]
    before = _figures(migrated_engine, content, starts, NOW)
    repository = SqlRepository(migrated_engine)

    for name, learner_id in dataset.learner_ids.items():
        repository.delete_learner(learner_id)
        assert _figures(migrated_engine, content, starts, NOW) == before, name


def test_nothing_personal_is_left_anywhere(sql: SqlRepository) -> None:
    engine = sql.engine
    bot = make_engine(sql)
    dialog = Dialog(bot, CHAT)
    play(dialog, [(Say(f"/start {PAYLOAD}"), NOTICE), (Press("Đồng ý"), GROUP_Q)])
    play(dialog, [(Press("Người dân"), "Câu 2/3"), (Press("Nà Lài"), YEAR_Q)])
    # One step with a platform update id, so applied_update has a row too.
    dialog.last = bot.handle(Incoming("test", CHAT, CHAT, text=str(BIRTH_YEAR), update_id="u-4711"))
    _learn_everything_after_one_failure(dialog)
    learner_id = _learner_id(sql)
    code = _add_the_rest(engine, learner_id)
    before = _rows_of(engine, learner_id)
    assert all(before[table] for table in (*ERASED, *KEPT)), before
    assert sql.is_applied(LearnerKey("test", CHAT), "u-4711")

    play(dialog, [(Say("xoá dữ liệu"), CONFIRM), (Press("Xóa hết dữ liệu"), DONE)])

    after = _rows_of(engine, learner_id)
    assert after == dict.fromkeys(ERASED, 0) | {table: before[table] for table in KEPT}
    for table, column, value in _every_value(engine):
        text = str(value)
        assert CHAT not in text, (table, column)
        assert TYPED not in text, (table, column)
        assert PAYLOAD not in text, (table, column)
        assert NICKNAME not in text, (table, column)
        assert value != BIRTH_YEAR, (table, column)
    with engine.connect() as connection:
        learner = connection.execute(
            sa.text("SELECT * FROM learner WHERE id = :id"), {"id": learner_id}
        ).one()
        typed = connection.execute(
            sa.text(
                "SELECT count(*) FROM quiz_answer WHERE raw_text IS NOT NULL AND learner_id = :id"
            ),
            {"id": learner_id},
        ).scalar_one()
        certificate = connection.execute(
            sa.text("SELECT * FROM certificate WHERE code = :code"), {"code": code}
        ).one()
        resident_helper = connection.execute(
            sa.text("SELECT assisted_by FROM learner WHERE chat_id = 'tok-ba-nam'")
        ).scalar_one()
    assert learner.channel == DELETED_CHANNEL
    assert len(learner.chat_id) == 32 and CHAT not in learner.chat_id
    assert (learner.target_group, learner.hamlet_id) == ("adult", "na-lai")
    assert (learner.birth_year, learner.start_payload, learner.nickname) == (None, None, None)
    assert typed == 0
    # The certificate is withdrawn and linked to nobody: its code no longer verifies.
    assert (certificate.learner_id, certificate.initials) == (None, None)
    assert certificate.withdrawn_at is not None
    # A deleted volunteer's residents keep the volunteer's id as a plain number.
    assert resident_helper == learner_id


def test_the_old_chat_starts_over_as_a_new_learner(repository: Repository) -> None:
    dialog = Dialog(make_engine(repository), CHAT)
    _start(dialog, BIRTH_YEAR)
    _learn_everything_after_one_failure(dialog)
    old_id = _learner_id(repository)
    play(dialog, [(Say("xoa du lieu"), CONFIRM), (Press("Xóa hết dữ liệu"), DONE)])

    assert repository.load(LearnerKey("test", CHAT)) is None
    # Asked for consent again, nothing remembered: no profile, no progress.
    play(
        dialog,
        [
            (Say("chào"), NOTICE),
            (Say("menu"), NOTICE),
            (Press("Đồng ý"), GROUP_Q),
            (Press("Người dân"), "Câu 2/3"),
            (Press("Bản Chang"), YEAR_Q),
            (Press("Bỏ qua"), MENU),
            (Press("Tiến độ"), "chưa hoàn thành bài nào"),
        ],
    )
    again = repository.load(LearnerKey("test", CHAT))
    assert again is not None
    assert again.learner_id != old_id
    assert again.completed_lessons == frozenset() and again.quiz_attempts == {}
    assert again.profile.birth_year is None


def test_the_help_screen_leads_to_deleting_after_a_confirmation(repository: Repository) -> None:
    dialog = Dialog(make_engine(repository), CHAT)
    _start(dialog, BIRTH_YEAR)
    play(
        dialog,
        [
            (Press("Trợ giúp"), ("Cách dùng", "xóa dữ liệu")),
        ],
    )
    assert dialog.labels() == ["🏠 Về menu", "🗑️ Xóa dữ liệu của tôi"]
    play(
        dialog,
        [
            (Press("Xóa dữ liệu của tôi"), (CONFIRM, "năm sinh", "số đếm chung", "thu hồi")),
        ],
    )
    # The safe answer comes first: a habitual "1" keeps everything.
    assert dialog.labels() == ["Không xóa", "🗑️ Xóa hết dữ liệu"]
    play(
        dialog,
        [
            (Say("1"), ("không xóa gì", MENU)),
            (Press("Trợ giúp"), "Cách dùng"),
            (Press("Về menu"), MENU),
            (Press("Trợ giúp"), "Cách dùng"),
            (Say("2"), CONFIRM),
            (Press("Xóa hết dữ liệu"), (DONE, "số đếm chung")),
        ],
    )
    assert repository.load(LearnerKey("test", CHAT)) is None


@pytest.mark.parametrize(
    "word", ["/xoadulieu", "xoadulieu", "/xoadulieu@hocvuso_bot", "Xoá dữ liệu", "xoa du lieu"]
)
@pytest.mark.parametrize("step", ["option question", "typed question", "birth year"])
def test_the_delete_word_works_on_quiz_and_profile_steps(
    memory_or_sql: Repository, word: str, step: str
) -> None:
    dialog = Dialog(make_engine(memory_or_sql), CHAT)
    if step == "birth year":
        play(
            dialog,
            [
                (Say("xin chào"), NOTICE),
                (Press("Đồng ý"), GROUP_Q),
                (Press("Người dân"), "Câu 2/3"),
                (Press("Nà Lài"), YEAR_Q),
            ],
        )
    else:
        _start(dialog, BIRTH_YEAR)
        play(
            dialog,
            [
                (Press("Học tiếp"), "Thẻ một"),
                (Press("Tiếp"), "Thẻ hai"),
                (Press("Làm bài kiểm tra"), "Câu 1/2"),
            ],
        )
        if step == "typed question":
            play(dialog, [(Press("Cúp máy"), ("Câu 2/2", "gõ câu trả lời"))])

    play(dialog, [(Say(word), CONFIRM), (Press("Xóa hết dữ liệu"), DONE)])

    assert memory_or_sql.load(LearnerKey("test", CHAT)) is None
    play(dialog, [(Say("chào"), NOTICE)])


@pytest.fixture(params=["memory", "sqlite"])
def memory_or_sql(request: pytest.FixtureRequest, sqlite_url: str) -> Iterator[Repository]:
    """The dialog-only tests on the fast backends (the storage tests cover PostgreSQL)."""
    if request.param == "memory":
        yield MemoryRepository()
        return
    database = make_database(sqlite_url)
    migrate(database)
    yield SqlRepository(database)
    database.dispose()


def test_memory_repository_deidentifies_like_sql() -> None:
    memory = MemoryRepository()
    dialog = Dialog(make_engine(memory), CHAT)
    _start(dialog, BIRTH_YEAR)
    _learn_everything_after_one_failure(dialog)
    learner_id = _learner_id(memory)
    events = memory.events(learner_id)
    answers = memory.answers(learner_id)
    assert any(answer.raw_text == TYPED for answer in answers)

    play(dialog, [(Say("/xoadulieu"), CONFIRM), (Press("Xóa hết dữ liệu"), DONE)])

    assert memory.load(LearnerKey("test", CHAT)) is None
    assert memory.events(learner_id) == events
    assert [a.raw_text for a in memory.answers(learner_id)] == [None] * len(answers)
    assert memory.consents(learner_id) == []
    left = memory.deidentified(learner_id)
    assert left is not None
    key, profile = left
    assert key.channel == DELETED_CHANNEL and CHAT not in key.chat_id
    assert (profile.target_group, profile.hamlet_id, profile.birth_year) == (
        "adult",
        "na-lai",
        None,
    )
