"""Questions the assistant could not answer reach the officials' list, anonymously."""

from __future__ import annotations

import datetime as dt

from dialog import Dialog, Press, Say, make_engine, play
from sqlalchemy.engine import Engine

from storage.memory import MemoryRepository
from storage.records import AskedQuestion, Changes, Consent, LearnerKey
from storage.repository import SqlRepository
from storage.stats import unanswered_questions

PROFILE = [
    (Say("xin chào"), "Bạn có đồng ý không?"),
    (Press("Đồng ý"), "Câu 1/3"),
    (Press("Người dân"), "Câu 2/3"),
    (Press("Nà Lài"), "Câu 3/3"),
    (Press("Bỏ qua"), "Bạn muốn làm gì?"),
]


def test_a_question_typed_in_the_menu_is_answered_or_honestly_not() -> None:
    memory = MemoryRepository()
    dialog = Dialog(make_engine(memory))
    play(
        dialog,
        [
            *PROFILE,
            (Say("giu bi mat ma otp the nao"), ("Bài học liên quan", "Giữ bí mật mã OTP")),
            (Press("Học bài này"), "Thẻ một"),
            (Say("menu"), "Bạn muốn làm gì?"),
            (Press("Hỏi đáp"), "Bạn gõ câu hỏi"),
            (Say("Giá lúa hôm nay bao nhiêu?"), ("chưa chắc", "gặp tình nguyện viên")),
            (Press("Gặp tình nguyện viên"), ("Tổ công nghệ số cộng đồng", "Đoàn Thanh niên")),
        ],
    )
    assert [(q.text, q.answered) for q in memory.questions] == [
        ("giu bi mat ma otp the nao", True),
        ("gia lua hom nay bao nhieu", False),
    ]
    assert all(not hasattr(q, "learner_id") for q in memory.questions)


def test_unanswered_questions_are_stored_in_the_step_and_listed(migrated_engine: Engine) -> None:
    repository = SqlRepository(migrated_engine)
    learner = repository.enrol(LearnerKey("test", "q1"), Consent("2026-01"), "menu", {})
    assert learner is not None
    for version, text in enumerate(("gia lua hom nay", "gia lua hom nay", "thoi tiet"), 1):
        asked = AskedQuestion(text, None, False)
        assert repository.apply(learner.learner_id, version, Changes("ask", {}, asked=asked))
    answered = AskedQuestion("ma otp la gi", "pay.otp", True)
    assert repository.apply(learner.learner_id, 4, Changes("ask", {}, asked=answered))
    # A step that loses the race writes nothing, its question included.
    lost = AskedQuestion("never stored", None, False)
    assert not repository.apply(learner.learner_id, 1, Changes("ask", {}, asked=lost))
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)
    listed = [(q.text, q.count) for q in unanswered_questions(migrated_engine, later, 10)]
    assert listed == [("gia lua hom nay", 2), ("thoi tiet", 1)]
