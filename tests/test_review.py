"""Learning path and review of missed questions: "học tiếp" follows the group's path, and a
question answered wrongly comes back the next day in a short review until it is learnt."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from dialog import Dialog, Press, PressRaw, Say, play
from sqlalchemy.engine import Engine as SqlEngine
from sqlmodel import SQLModel

from bot.assistant import Assistant
from bot.commune import load_commune
from bot.content import load_content
from bot.engine import Engine, Repository
from storage.memory import MemoryRepository
from storage.records import (
    Changes,
    Consent,
    EventKind,
    LearnerKey,
    LearnerSnapshot,
    ProgressEvent,
    Review,
    ReviewChange,
)
from storage.repository import SqlRepository

REVIEW_FIXTURES = Path(__file__).parent / "fixtures" / "review"
DAY_0 = dt.date(2026, 11, 23)
MENU = "Bạn muốn làm gì?"
REVIEW_BUTTON = "Ôn lại câu sai"
OTP_LESSON = "Giữ bí mật mã OTP (1/2)"
QR_LESSON = "Chuyển khoản bằng mã QR (1/1)"
OTP_Q1 = "tự xưng nhân viên ngân hàng"
OTP_Q4 = "về trang chính của trợ lý"

Step = tuple[Say | Press | PressRaw, str | tuple[str, ...]]


class Clock:
    """The engine's calendar, moved on by the test instead of waited for."""

    def __init__(self, today: dt.date = DAY_0) -> None:
        self.today = today

    def advance(self, days: int) -> None:
        """Move the calendar on by whole days."""
        self.today += dt.timedelta(days=days)


def make_engine(repository: Repository, clock: Clock, root: Path = REVIEW_FIXTURES) -> Engine:
    """An engine over the review fixtures whose date is the test's clock."""
    content = load_content(root)
    commune = load_commune(root / "commune.yaml")
    return Engine(repository, content, commune, Assistant(content), today=lambda: clock.today)


def profile(group: str) -> list[Step]:
    """Consent and the three profile questions, ending at the menu."""
    return [
        (Say("xin chào"), "Bạn có đồng ý không?"),
        (Press("Đồng ý"), "Câu 1/3"),
        (Say(group), "Câu 2/3"),
        (Press("Nà Lài"), "Câu 3/3"),
        (Say("1975"), MENU),
    ]


def snapshot(repository: Repository, chat: str = "chat-1") -> LearnerSnapshot:
    """The learner's snapshot, which must exist."""
    learner = repository.load(LearnerKey("test", chat))
    assert learner is not None
    return learner


def schedule(repository: Repository, chat: str = "chat-1") -> list[tuple[str, str, dt.date, int]]:
    """The learner's review schedule as (lesson, question, due day, interval)."""
    return [
        (r.lesson_id, r.question_id, r.due_at.date(), r.interval_days)
        for r in snapshot(repository, chat).reviews
    ]


def day(offset: int) -> dt.date:
    """DAY_0 plus `offset` days."""
    return DAY_0 + dt.timedelta(days=offset)


def review_labels(dialog: Dialog) -> list[str]:
    """The review buttons on screen."""
    return [label for label in dialog.labels() if REVIEW_BUTTON in label]


# -- "học tiếp" follows the learner's group path -------------------------------------------


@pytest.mark.parametrize(
    ("group", "first", "second"),
    [("người dân", OTP_LESSON, QR_LESSON), ("cán bộ", QR_LESSON, OTP_LESSON)],
)
def test_next_lesson_follows_the_group_path(
    repository: Repository, group: str, first: str, second: str
) -> None:
    # Without paths.yaml an official would start with demo-otp (lesson order); the path
    # puts demo-qr first for officials and demo-otp first for adults.
    dialog = Dialog(make_engine(repository, Clock()))
    play(dialog, [*profile(group), (Say("học tiếp"), first)])
    learner = snapshot(repository)
    lesson = str(learner.data["lesson"])
    passed = Changes("menu", {}, events=(ProgressEvent(lesson, EventKind.QUIZ_PASSED, 1, 1),))
    assert repository.apply(learner.learner_id, learner.version, passed)
    play(dialog, [(Say("menu"), MENU), (Press("Học tiếp"), second)])


# -- the review, as a learner lives it -------------------------------------------------------

OTP_QUIZ_ONE_WRONG: list[Step] = [
    (Press("Học tiếp"), OTP_LESSON),
    (Press("Tiếp"), "(2/2)"),
    (Press("Làm bài kiểm tra"), ("4 câu", OTP_Q1)),
    (Press("Đọc mã"), ("Chưa đúng", "Đáp án đúng", "Câu 2/4")),
    (Say("156"), ("Đúng rồi", "Câu 3/4")),
    (Say("2"), ("Đúng rồi", "Câu 4/4")),
    # The right answer is the word "menu": graded, not taken as the command.
    (Say("menu"), ("Đúng rồi", "Chúc mừng", "3/4")),
]


def test_a_wrong_answer_comes_back_the_next_day_and_climbs_the_ladder(
    repository: Repository,
) -> None:
    clock = Clock()
    dialog = Dialog(make_engine(repository, clock))
    play(dialog, [*profile("người dân"), *OTP_QUIZ_ONE_WRONG])
    assert schedule(repository) == [("demo-otp", "q1", day(1), 1)]
    # The same day: no review in the menu, and "học tiếp" goes straight to the next lesson.
    play(dialog, [(Say("menu"), MENU)])
    assert review_labels(dialog) == []
    play(dialog, [(Press("Học tiếp"), QR_LESSON), (Say("menu"), MENU)])

    clock.advance(1)
    play(dialog, [(Say("menu"), MENU)])
    assert review_labels(dialog) == ["📝 Ôn lại câu sai (1)"]
    play(
        dialog,
        [
            (Press(REVIEW_BUTTON), ("ôn lại 1 câu", "Ôn lại 1/1", "Giữ bí mật mã OTP", OTP_Q1)),
            (Press("Cúp máy"), ("Đúng rồi", "tổng đài in trên thẻ", "Ôn xong", "1/1")),
        ],
    )
    assert "vài hôm nữa" in dialog.text()
    assert schedule(repository) == [("demo-otp", "q1", day(4), 3)]
    play(dialog, [(Say("menu"), MENU)])
    assert review_labels(dialog) == []

    clock.advance(3)  # day 4: due again, right again -> a week
    play(dialog, [(Say("menu"), MENU), (Press(REVIEW_BUTTON), OTP_Q1), (Say("2"), "Ôn xong")])
    assert schedule(repository) == [("demo-otp", "q1", day(11), 7)]

    clock.advance(6)  # day 10: not yet
    play(dialog, [(Say("menu"), MENU)])
    assert review_labels(dialog) == []
    clock.advance(1)  # day 11: right at the longest interval -> learnt, gone for good
    play(
        dialog,
        [
            (Say("menu"), MENU),
            (Say("ôn lại"), OTP_Q1),
            (Say("cup may goi tong dai"), ("Đúng rồi", "1 câu bạn đã nhớ chắc")),
        ],
    )
    assert schedule(repository) == []
    clock.advance(30)
    play(dialog, [(Say("menu"), MENU)])
    assert review_labels(dialog) == []


def test_a_wrong_answer_in_review_goes_back_to_one_day(repository: Repository) -> None:
    clock = Clock()
    dialog = Dialog(make_engine(repository, clock))
    play(dialog, [*profile("người dân"), *OTP_QUIZ_ONE_WRONG])
    clock.advance(1)
    play(dialog, [(Say("menu"), MENU), (Press(REVIEW_BUTTON), OTP_Q1), (Say("2"), "Ôn xong")])
    assert schedule(repository) == [("demo-otp", "q1", day(4), 3)]
    clock.advance(3)
    play(
        dialog,
        [
            (Say("menu"), MENU),
            (Press(REVIEW_BUTTON), OTP_Q1),
            # Same instant explanation as in the quiz: why it is wrong, and the right answer.
            (Press("Đọc mã"), ("Chưa đúng", "không bao giờ xin", "Đáp án đúng", "Cúp máy")),
        ],
    )
    assert "0/1" in dialog.text() and "ngày mai mình hỏi lại" in dialog.text()
    assert schedule(repository) == [("demo-otp", "q1", day(5), 1)]


def test_a_review_asks_at_most_three_questions(repository: Repository) -> None:
    clock = Clock()
    dialog = Dialog(make_engine(repository, clock))
    play(
        dialog,
        [
            *profile("người dân"),
            (Press("Học tiếp"), OTP_LESSON),
            (Press("Tiếp"), "(2/2)"),
            (Press("Làm bài kiểm tra"), OTP_Q1),
            (Press("Đọc mã"), "Câu 2/4"),
            (Press("Tôi không biết"), "Câu 3/4"),
            (Press("Có, cho chắc"), "Câu 4/4"),
            (Say("trang chu"), ("Chưa đúng", "0/4")),
        ],
    )
    assert [(q, due) for _, q, due, _ in schedule(repository)] == [
        (q, day(1)) for q in ("q1", "q2", "q3", "q4")
    ]
    clock.advance(1)
    play(dialog, [(Say("menu"), MENU)])
    assert review_labels(dialog) == ["📝 Ôn lại câu sai (4)"]
    # "Học tiếp" offers the review first; typed words and numbers work as in a quiz.
    play(
        dialog,
        [
            (Press("Học tiếp"), "4 câu từng trả lời sai"),
        ],
    )
    assert dialog.labels() == ["📝 Ôn lại câu sai (4)", "📚 Học bài mới", "🏠 Về menu"]
    play(
        dialog,
        [
            (Say("on lai"), ("ôn lại 3 câu", "Ôn lại 1/3", OTP_Q1)),
            (Say("2"), ("Đúng rồi", "Ôn lại 2/3")),
            (Say("nhắn 5656"), ("Đúng rồi", "Ôn lại 3/3")),
            (Say("1"), ("Chưa đúng", "Ôn xong", "2/3")),
        ],
    )
    assert review_labels(dialog) == ["📝 Ôn lại câu sai (1)"]
    play(
        dialog,
        [
            (Press(REVIEW_BUTTON), ("Ôn lại 1/1", OTP_Q4)),
            # "menu" is the right answer here: graded, not taken as the command.
            (Say("menu"), ("Đúng rồi", "Ôn xong", "1/1")),
        ],
    )
    assert review_labels(dialog) == []
    assert schedule(repository) == [
        ("demo-otp", "q3", day(2), 1),
        ("demo-otp", "q1", day(4), 3),
        ("demo-otp", "q2", day(4), 3),
        ("demo-otp", "q4", day(4), 3),
    ]
    play(dialog, [(Press("Học tiếp"), OTP_LESSON)])


def test_the_offer_can_be_declined_for_a_new_lesson(repository: Repository) -> None:
    clock = Clock()
    dialog = Dialog(make_engine(repository, clock))
    play(dialog, [*profile("người dân"), *OTP_QUIZ_ONE_WRONG])
    clock.advance(1)
    play(
        dialog,
        [
            (Say("menu"), MENU),
            (Press("Học tiếp"), "1 câu từng trả lời sai"),
            (Press("Học bài mới"), QR_LESSON),
        ],
    )
    assert schedule(repository) == [("demo-otp", "q1", day(1), 1)]


def test_a_question_gone_from_the_content_is_dropped(
    repository: Repository, tmp_path: Path
) -> None:
    root = tmp_path / "content"
    shutil.copytree(REVIEW_FIXTURES, root)
    clock = Clock()
    dialog = Dialog(make_engine(repository, clock, root))
    play(dialog, [*profile("người dân"), *OTP_QUIZ_ONE_WRONG])
    learner = snapshot(repository)
    # Also due tomorrow: a question that stays, and one of a lesson removed altogether.
    due = dt.datetime.combine(day(1), dt.time(), dt.UTC)
    extra = (ReviewChange("demo-otp", "q3", due, 1), ReviewChange("gone-lesson", "q1", due, 1))
    assert repository.apply(learner.learner_id, learner.version, Changes("menu", {}, reviews=extra))
    quiz = root / "quizzes" / "demo-otp.yaml"
    text = quiz.read_text(encoding="utf-8")
    quiz.write_text(text.replace("id: q1\n", "id: q1-new\n"), encoding="utf-8")

    clock.advance(1)
    dialog = Dialog(make_engine(repository, clock, root))
    play(dialog, [(Say("menu"), MENU)])
    assert review_labels(dialog) == ["📝 Ôn lại câu sai (1)"]
    # The learner's next step cleared what can never be asked again.
    assert schedule(repository) == [("demo-otp", "q3", day(1), 1)]
    play(
        dialog,
        [
            (Press(REVIEW_BUTTON), ("ôn lại 1 câu", "Ôn lại 1/1", "chụp màn hình")),
            (Press("Không, tự mình nhập mã"), ("Đúng rồi", "Ôn xong", "1/1")),
        ],
    )
    assert schedule(repository) == [("demo-otp", "q3", day(4), 3)]


# -- the repositories: written in the step's transaction, or not at all ---------------------

AT = dt.datetime(2026, 11, 24, tzinfo=dt.UTC)


def _enrol(repository: Repository) -> LearnerSnapshot:
    learner = repository.enrol(LearnerKey("test", "r"), Consent("2026-01"), "menu", {})
    assert learner is not None
    return learner


def test_reviews_are_written_and_dropped_with_the_step(repository: Repository) -> None:
    learner = _enrol(repository)
    later = AT + dt.timedelta(days=3)
    changes = Changes(
        "menu",
        {},
        reviews=(
            ReviewChange("b", "q1", later, 3),
            ReviewChange("a", "q2", AT, 1),
            ReviewChange("a", "q1", AT, 1),
        ),
    )
    assert repository.apply(learner.learner_id, learner.version, changes)
    loaded = repository.load(learner.key)
    assert loaded is not None
    assert loaded.reviews == (
        Review("a", "q1", AT, 1),
        Review("a", "q2", AT, 1),
        Review("b", "q1", later, 3),
    )
    # Rescheduling replaces the row; None drops it; changes apply in order.
    step = Changes(
        "menu",
        {},
        reviews=(
            ReviewChange("a", "q1", later, 3),
            ReviewChange("b", "q1", None),
            ReviewChange("a", "q2", None),
            ReviewChange("a", "q2", AT, 1),
        ),
    )
    assert repository.apply(loaded.learner_id, loaded.version, step)
    after = repository.load(learner.key)
    assert after is not None
    assert after.reviews == (Review("a", "q2", AT, 1), Review("a", "q1", later, 3))
    assert all(r.due_at.tzinfo is not None for r in after.reviews)


def test_a_step_that_loses_the_race_writes_no_review(repository: Repository) -> None:
    learner = _enrol(repository)
    rival = Changes("lesson", {"lesson": "x"})
    assert repository.apply(learner.learner_id, learner.version, rival)
    late = Changes("menu", {}, reviews=(ReviewChange("a", "q1", AT, 1),))
    assert not repository.apply(learner.learner_id, learner.version, late)
    # A redelivered update is not applied twice either.
    current = snapshot(repository, "r")
    first = Changes("menu", {}, update_id="u1")
    assert repository.apply(current.learner_id, current.version, first)
    again = Changes("menu", {}, update_id="u1", reviews=(ReviewChange("a", "q1", AT, 1),))
    assert not repository.apply(current.learner_id, current.version + 1, again)
    assert snapshot(repository, "r").reviews == ()


def test_deleting_a_learner_erases_their_reviews(migrated_engine: SqlEngine) -> None:
    repository = SqlRepository(migrated_engine)
    learner = _enrol(repository)
    changes = Changes("menu", {}, reviews=(ReviewChange("a", "q1", AT, 1),))
    assert repository.apply(learner.learner_id, learner.version, changes)
    table = SQLModel.metadata.tables["review_item"]
    with migrated_engine.connect() as connection:
        count = connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
    assert count == 1
    repository.delete_learner(learner.learner_id)
    with migrated_engine.connect() as connection:
        count = connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
    assert count == 0


class _RacingRepository(MemoryRepository):
    """Another worker moves the learner on between our read and our wrong answer's write."""

    raced = False

    def apply(self, learner_id: int, expected_version: int, changes: Changes) -> bool:
        if not self.raced and changes.reviews:
            self.raced = True
            learner = snapshot(self)
            rival = Changes(learner.state, learner.data)
            assert super().apply(learner_id, expected_version, rival)
        return super().apply(learner_id, expected_version, changes)


def test_a_wrong_answer_that_loses_the_race_is_scheduled_once() -> None:
    repository = _RacingRepository()
    dialog = Dialog(make_engine(repository, Clock()))
    play(dialog, [*profile("người dân"), *OTP_QUIZ_ONE_WRONG[:3]])
    # The engine re-reads and decides again: one answer, one review, nothing doubled.
    play(dialog, [(Say("1"), ("Chưa đúng", "Câu 2/4"))])
    assert repository.raced
    assert schedule(repository) == [("demo-otp", "q1", day(1), 1)]
    learner = snapshot(repository)
    assert [a.question_id for a in repository.answers(learner.learner_id)] == ["q1"]
