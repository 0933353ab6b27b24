"""Weekly reminders in the conversation: opting in, seeing it in the menu, "dừng nhắc"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from dialog import FIXTURES, TODAY, Dialog, Press, Say, play

from bot.assistant import Assistant
from bot.commune import load_commune
from bot.content import load_content
from bot.engine import Engine, Repository
from storage.memory import MemoryRepository
from storage.records import LearnerKey

VN = timezone(timedelta(hours=7))
MENU = "Bạn muốn làm gì?"
REMIND = "Nhắc tôi học mỗi tuần"
STOP = "Dừng nhắc học"
# Monday 23 November 2026, 14:37 in Vietnam.
NOW = datetime(2026, 11, 23, 14, 37, 5, tzinfo=VN)

CONSENT_AND_PROFILE = [
    (Say("xin chào"), "Bạn có đồng ý không?"),
    (Press("Đồng ý"), "Câu 1/3"),
    (Press("Người dân"), "Câu 2/3"),
    (Press("Nà Lài"), "Câu 3/3"),
    (Say("1958"), MENU),
]


def engine_at(repository: Repository, now: datetime = NOW) -> Engine:
    """An engine over the dialog fixtures whose clock says `now`."""
    content = load_content(FIXTURES)
    commune = load_commune(FIXTURES / "commune.yaml")
    return Engine(
        repository,
        content,
        commune,
        Assistant(content),
        today=lambda: TODAY,
        now=lambda: now.astimezone(UTC),
    )


def offered(dialog: Dialog, label: str) -> bool:
    """Whether a button whose label contains `label` is on screen."""
    return any(label in shown for shown in dialog.labels())


def reminder_at(repository: Repository, channel: str, chat: str = "chat-1") -> datetime | None:
    learner = repository.load(LearnerKey(channel, chat))
    assert learner is not None
    return learner.reminder_at


def test_opt_in_shows_when_then_dung_nhac_stops_it(repository: Repository) -> None:
    dialog = Dialog(engine_at(repository), channel="telegram")
    play(dialog, CONSENT_AND_PROFILE)
    assert offered(dialog, REMIND) and not offered(dialog, STOP)
    assert reminder_at(repository, "telegram") is None

    play(
        dialog,
        [
            (
                Press(REMIND),
                ("Đã bật nhắc học", "thứ Hai, ngày 30/11 lúc 14:37", "dừng nhắc", MENU),
            ),
        ],
    )
    assert offered(dialog, STOP) and not offered(dialog, REMIND)
    assert reminder_at(repository, "telegram") == NOW + timedelta(days=7)

    # Typed, without diacritics and in capitals, on another step: stopped, and still there.
    play(dialog, [(Press("Chọn chủ đề"), "chủ đề"), (Say("DUNG NHAC"), "Đã dừng nhắc học")])
    assert "Bạn muốn học chủ đề nào?" in dialog.text()
    assert reminder_at(repository, "telegram") is None
    play(dialog, [(Say("menu"), MENU)])
    assert offered(dialog, REMIND)
    play(dialog, [(Say("dừng nhắc"), "chưa bật nhắc học")])


def test_the_menu_button_also_stops_reminders() -> None:
    memory = MemoryRepository()
    dialog = Dialog(engine_at(memory), channel="zalo")
    play(
        dialog,
        [
            *CONSENT_AND_PROFILE,
            (Say("nhắc tôi"), "Đã bật nhắc học"),
            (Press(STOP), ("Đã dừng nhắc học", MENU)),
        ],
    )
    assert reminder_at(memory, "zalo") is None


def test_opting_in_late_at_night_starts_with_a_morning() -> None:
    memory = MemoryRepository()
    late = datetime(2026, 11, 23, 23, 0, tzinfo=VN)
    dialog = Dialog(engine_at(memory, late), channel="telegram")
    play(dialog, [*CONSENT_AND_PROFILE, (Press(REMIND), "thứ Ba, ngày 1/12 lúc 08:00")])
    assert reminder_at(memory, "telegram") == datetime(2026, 12, 1, 8, 0, tzinfo=VN)


@pytest.mark.parametrize("channel", ["web", "console", "test"])
def test_chats_that_cannot_push_offer_no_reminders(channel: str) -> None:
    memory = MemoryRepository()
    dialog = Dialog(engine_at(memory), channel=channel)
    play(dialog, CONSENT_AND_PROFILE)
    assert not any("nhắc" in label.lower() for label in dialog.labels())
    dialog.send(Say("nhắc tôi học mỗi tuần"))
    assert "Đã bật nhắc học" not in dialog.text()
    assert reminder_at(memory, channel) is None
    play(dialog, [(Say("dung nhac"), "chưa bật nhắc học")])


def test_dung_nhac_before_the_profile_is_done_changes_nothing() -> None:
    memory = MemoryRepository()
    dialog = Dialog(engine_at(memory), channel="telegram")
    play(
        dialog,
        [
            (Say("xin chào"), "Bạn có đồng ý không?"),
            (Press("Đồng ý"), "Câu 1/3"),
            (Say("dừng nhắc"), ("chưa bật nhắc học", "Câu 1/3")),
        ],
    )


def test_nothing_is_stored_before_consent_even_asking_for_reminders() -> None:
    memory = MemoryRepository()
    dialog = Dialog(engine_at(memory), channel="telegram")
    dialog.send(Say("nhắc tôi học mỗi tuần"))
    dialog.send(Say("dừng nhắc"))
    assert "Bạn có đồng ý không?" in dialog.text()
    assert memory.load(LearnerKey("telegram", "chat-1")) is None


def test_hoc_tiep_from_a_reminder_works_from_any_step() -> None:
    memory = MemoryRepository()
    dialog = Dialog(engine_at(memory), channel="telegram")
    play(dialog, CONSENT_AND_PROFILE)
    # From the question-and-answer step, where "Hỏi câu khác" looks alike.
    play(dialog, [(Press("Hỏi đáp"), "câu hỏi"), (Say("Học tiếp"), "(1/")])
    # Mid-lesson: back where they stopped, not a restart and not "I don't understand".
    play(dialog, [(Press("Tiếp"), "(2/"), (Say("hoc tiep"), ("học tiếp từ chỗ", "(2/"))])
    assert "chưa hiểu" not in dialog.text()
