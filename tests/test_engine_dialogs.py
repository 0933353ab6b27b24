"""The conversation as a learner lives it, as tables of (what they send, what they must see)."""

from __future__ import annotations

import pytest
from dialog import FIXTURES, Dialog, Press, PressRaw, Say, make_engine, play

from bot.engine import Engine, Repository
from bot.engine.engine import MAX_TEXT
from storage.memory import MemoryRepository
from storage.records import Changes, EventKind, LearnerKey

NOTICE = "Bạn có đồng ý không?"
GROUP_Q = "Câu 1/3"
HAMLET_Q = "Câu 2/3"
YEAR_Q = "Câu 3/3"
MENU = "Bạn muốn làm gì?"
CARD_1 = "Thẻ một"
CARD_2 = "Thẻ hai"
Q1 = "Câu 1/2"
Q2 = "Câu 2/2"

CONSENT_AND_PROFILE = [
    (Say("xin chào"), NOTICE),
    (Press("Đồng ý"), ("Cảm ơn bạn", GROUP_Q)),
    (Press("Người dân"), HAMLET_Q),
    (Press("Nà Lài"), YEAR_Q),
    (Say("1958"), ("Xong rồi", MENU)),
]


@pytest.fixture
def memory() -> MemoryRepository:
    return MemoryRepository()


def key(chat: str = "chat-1") -> LearnerKey:
    return LearnerKey("test", chat)


def test_nothing_is_stored_before_consent(memory: MemoryRepository) -> None:
    dialog = Dialog(make_engine(memory))
    play(
        dialog,
        [
            (Say("/start"), (NOTICE, "không hỏi số căn cước")),
            (Say("Đọc thêm"), ("Chi tiết", "91/2025/QH15")),
            (Say("không đồng ý"), "Mình chưa lưu gì về bạn"),
            (Say("😀😀"), NOTICE),
        ],
    )
    assert memory.load(key()) is None
    play(dialog, [(Say("dong y"), GROUP_Q)])
    learner = memory.load(key())
    assert learner is not None
    assert memory.consents(learner.learner_id)[0].method == "self"


def test_whole_lesson_and_quiz_by_buttons(repository: Repository) -> None:
    dialog = Dialog(make_engine(repository))
    play(
        dialog,
        [
            *CONSENT_AND_PROFILE,
            (Press("Học tiếp"), ("Giữ bí mật mã OTP (1/2)", CARD_1)),
            (Press("Tiếp"), ("(2/2)", CARD_2)),
            (Press("Làm bài kiểm tra"), ("2 câu", "Đúng từ 2 câu", Q1)),
            (Press("Cúp máy"), ("Đúng rồi", "tổng đài in trên thẻ", Q2, "gõ câu trả lời")),
            (Say("156"), ("Đúng rồi", "Chúc mừng", "2/2", "Giữ bí mật mã OTP")),
        ],
    )
    assert "Học bài tiếp theo" in " ".join(dialog.labels())
    learner = repository.load(key())
    assert learner is not None
    assert learner.completed_lessons == {"demo-otp"}
    assert learner.quiz_attempts == {"demo-otp": 1}
    assert (learner.profile.target_group, learner.profile.hamlet_id) == ("adult", "na-lai")
    assert learner.profile.birth_year == 1958


def test_every_choice_works_typed_without_diacritics(memory: MemoryRepository) -> None:
    dialog = Dialog(make_engine(memory))
    play(
        dialog,
        [
            (Say("chao ban"), NOTICE),
            (Say("DONG Y"), GROUP_Q),
            (Say("1"), HAMLET_Q),
            (Say("na lai"), YEAR_Q),
            (Say("bỏ qua"), MENU),
            (Say("hoc tiep"), CARD_1),
            (Say("tiep"), CARD_2),
            (Say("lam bai kiem tra"), Q1),
            (Say("2"), ("Đúng rồi", Q2)),
            (Say("nhan tin toi so 5656 a"), ("Đúng rồi", "Chúc mừng")),
            (Say("hoc bai tiep theo"), "Chuyển khoản bằng mã QR"),
        ],
    )
    learner = memory.load(key())
    assert learner is not None and learner.profile.birth_year is None
    answers = memory.answers(learner.learner_id)
    assert [(a.question_id, a.correct, a.option_index) for a in answers] == [
        ("q1", True, 1),
        ("q2", True, None),
    ]
    assert answers[1].raw_text == "nhan tin toi so 5656 a"


def test_a_wrong_answer_is_explained_and_the_quiz_can_be_retried(memory: MemoryRepository) -> None:
    dialog = Dialog(make_engine(memory))
    play(
        dialog,
        [
            *CONSENT_AND_PROFILE,
            (Press("Học tiếp"), CARD_1),
            (Press("Tiếp"), CARD_2),
            (Press("Làm bài kiểm tra"), Q1),
            (Press("Đọc mã"), ("Chưa đúng", "không bao giờ xin", "Đáp án đúng", "Cúp máy")),
            (Press("Tôi không biết"), ("Đáp án đúng: “156”", "Cần đúng 2 câu")),
            (Press("Làm lại"), ("Câu 1/2",)),
            (Say("cup may goi tong dai ngan hang"), ("Đúng rồi", Q2)),
            (Say("sáu năm sáu"), ("Chưa đúng", "Cần đúng 2 câu")),
            (Press("Đọc lại"), CARD_1),
        ],
    )
    learner = memory.load(key())
    assert learner is not None
    assert learner.completed_lessons == frozenset()
    assert learner.quiz_attempts == {"demo-otp": 2}
    kinds = [e.kind for e in memory.events(learner.learner_id)]
    assert kinds.count(EventKind.QUIZ_FAILED) == 2


def test_stale_foreign_and_garbage_buttons_get_a_polite_note(memory: MemoryRepository) -> None:
    dialog = Dialog(make_engine(memory))
    play(dialog, [*CONSENT_AND_PROFILE, (Press("Học tiếp"), CARD_1)])
    old_next = dialog.button("Tiếp")
    play(
        dialog,
        [
            (Press("Tiếp"), CARD_2),
            (PressRaw(old_next), ("tin nhắn cũ", CARD_2)),
            (PressRaw("garbage"), ("tin nhắn cũ", CARD_2)),
            (PressRaw("99:next"), ("tin nhắn cũ", CARD_2)),
            (PressRaw("x" * 500), ("tin nhắn cũ", CARD_2)),
        ],
    )
    stranger = Dialog(dialog.engine, chat_id="someone-else")
    play(stranger, [(PressRaw(old_next), ("tin nhắn cũ", NOTICE))])
    assert memory.load(key("someone-else")) is None


def test_unknown_text_gets_a_hint_and_the_same_step(memory: MemoryRepository) -> None:
    dialog = Dialog(make_engine(memory))
    play(
        dialog,
        [
            *CONSENT_AND_PROFILE,
            (Press("Học tiếp"), CARD_1),
            (Say("blah blah"), ("chưa hiểu ý bạn", CARD_1)),
            (Say("   "), ("chưa nhận được chữ nào", CARD_1)),
        ],
    )
    assert "Tiếp ▶" in dialog.labels()


def test_profile_questions_validate_and_cannot_be_skipped_by_menu(memory: MemoryRepository) -> None:
    dialog = Dialog(make_engine(memory))
    play(
        dialog,
        [
            (Say("hi"), NOTICE),
            (Say("ok"), GROUP_Q),
            (Say("menu"), GROUP_Q),
            (Say("cán bộ"), HAMLET_Q),
            (Say("thôn không có"), ("chưa thấy thôn đó", HAMLET_Q)),
            (Say("Bản Chang"), YEAR_Q),
            (Say("năm 2030"), "Năm sinh chưa đúng"),
            (Say("toi sinh nam 1990"), MENU),
        ],
    )
    learner = memory.load(key())
    assert learner is not None
    assert learner.profile.target_group == "official"
    assert learner.profile.hamlet_id == "ban-chang"
    assert learner.profile.birth_year == 1990


def test_menu_help_and_progress_work_anywhere(memory: MemoryRepository) -> None:
    dialog = Dialog(make_engine(memory))
    play(
        dialog,
        [
            *CONSENT_AND_PROFILE,
            (Say("tien do"), ("chưa hoàn thành bài nào", MENU)),
            (Press("Học tiếp"), CARD_1),
            (Say("trợ giúp"), ("Cách dùng", CARD_1)),
            (Say("MENU"), MENU),
            (Press("Chọn chủ đề"), "Bạn muốn học chủ đề nào"),
            (Press("Thanh toán số"), ("Các bài trong chủ đề",)),
            (Press("Chuyển khoản bằng mã QR"), "đọc kỹ tên người nhận"),
            (Press("Làm bài kiểm tra"), "Câu 1/1"),
            (Say("ten ngươi nhan"), "Chúc mừng"),
            (Say("menu"), MENU),
            (Press("Tiến độ"), ("1/2 bài", "✅ Chuyển khoản bằng mã QR")),
        ],
    )


def test_deleting_data_erases_the_learner(memory: MemoryRepository) -> None:
    dialog = Dialog(make_engine(memory))
    play(
        dialog,
        [
            *CONSENT_AND_PROFILE,
            (Say("xoá dữ liệu"), "Bạn muốn xóa hết"),
            (Press("Không xóa"), ("không xóa gì", MENU)),
            (Say("/xoadulieu"), "Bạn muốn xóa hết"),
            (Press("Xóa hết"), "Đã xóa hết"),
        ],
    )
    assert memory.load(key()) is None
    play(dialog, [(Say("chào"), NOTICE)])


@pytest.mark.parametrize(
    "text",
    ["a" * 10_000, "\x00\x01\x1b[31m", "🙂" * 300, "‮ RTL ‭", "\ud7ff", "1" * 64, "-1", "0"],
)
def test_hostile_text_always_gets_an_answer(memory: MemoryRepository, text: str) -> None:
    dialog = Dialog(make_engine(memory))
    for _ in range(2):
        assert dialog.send(Say(text))
    play(dialog, [(Say("đồng ý"), GROUP_Q)])
    assert dialog.send(Say(text))
    play(dialog, [(Press("Người dân"), HAMLET_Q), (Press("Nà Lài"), YEAR_Q)])
    assert dialog.send(Say(text))
    learner = memory.load(key())
    assert learner is not None
    assert len(text[:MAX_TEXT]) <= MAX_TEXT


class _RacingRepository(MemoryRepository):
    """Another worker moves the learner on between our read and our write, once."""

    raced = False

    def apply(self, learner_id: int, expected_version: int, changes: Changes) -> bool:
        if not self.raced and changes.state == "lesson":
            self.raced = True
            rival = Changes(state="menu", data={})
            assert super().apply(learner_id, expected_version, rival)
        return super().apply(learner_id, expected_version, changes)


def test_a_step_is_never_applied_twice_when_workers_race() -> None:
    repository = _RacingRepository()
    dialog = Dialog(make_engine(repository))
    play(dialog, CONSENT_AND_PROFILE)
    # Our "học tiếp" loses the race to a rival step; the engine re-reads and decides again.
    play(dialog, [(Say("học tiếp"), CARD_1)])
    learner = repository.load(key())
    assert learner is not None and learner.state == "lesson"
    kinds = [e.kind for e in repository.events(learner.learner_id)]
    assert kinds == [EventKind.LESSON_STARTED]


def test_a_lesson_removed_under_a_learner_leads_back_to_the_menu(
    memory: MemoryRepository, tmp_path: object
) -> None:
    dialog = Dialog(make_engine(memory))
    play(dialog, [*CONSENT_AND_PROFILE, (Press("Học tiếp"), CARD_1)])
    learner = memory.load(key())
    assert learner is not None
    assert memory.apply(learner.learner_id, learner.version, Changes("lesson", {"lesson": "gone"}))
    play(dialog, [(Say("tiếp"), MENU)])
    # A button of the vanished lesson, pressed late: also back to the menu, never an error.
    play(dialog, [(Press("Học tiếp"), CARD_1)])
    learner = memory.load(key())
    assert learner is not None
    assert memory.apply(learner.learner_id, learner.version, Changes("lesson", {"lesson": "gone"}))
    play(dialog, [(Press("Tiếp"), MENU)])


def test_two_learners_do_not_share_state(memory: MemoryRepository) -> None:
    engine: Engine = make_engine(memory)
    first, second = Dialog(engine, "a"), Dialog(engine, "b")
    play(first, CONSENT_AND_PROFILE)
    play(second, [(Say("hello"), NOTICE)])
    play(first, [(Press("Học tiếp"), CARD_1)])
    assert memory.load(key("b")) is None
    assert FIXTURES.is_dir()
