"""Zalo rendering: numbered choices, the 2000-character limit, both webhook body shapes."""

from __future__ import annotations

import pytest

from bot.channels.split import split_text
from bot.channels.zalo import message_key, numbered
from bot.engine import Button, Reply


def test_buttons_become_numbered_choices_with_how_to_answer() -> None:
    reply = Reply(
        "Bạn muốn làm gì?",
        (Button("1:a", "📚 Học tiếp"), Button("1:b", "ℹ️ Trợ giúp"), Button("1:c", "🏠 Về menu")),
    )
    text = numbered(reply)
    assert text.splitlines()[-5:] == [
        "1. 📚 Học tiếp",
        "2. ℹ️ Trợ giúp",
        "3. 🏠 Về menu",
        "",
        "Trả lời 1, 2 hoặc 3.",
    ]
    assert numbered(Reply("x", (Button("1:a", "Bỏ qua"),))).endswith("Trả lời 1 nhé.")
    assert numbered(Reply("Chỉ có chữ")) == "Chỉ có chữ"


def test_long_text_is_split_at_sentence_boundaries_within_2000() -> None:
    text = " ".join(f"Câu số {i} nói về an toàn khi chuyển tiền." for i in range(120))
    pieces = split_text(text, 2000)
    assert len(pieces) > 1
    assert all(len(p) <= 2000 and p.endswith(".") for p in pieces)
    assert " ".join(pieces) == text


@pytest.mark.parametrize("wrap", [False, True])
def test_webhook_accepts_the_bare_update_and_the_envelope(wrap: bool) -> None:
    update = {
        "event_name": "message.text.received",
        "message": {"message_id": "abc123", "chat": {"id": "u1"}, "text": "hi", "date": 1},
    }
    body = {"ok": True, "result": update} if wrap else update
    assert message_key(body) == ("abc123", update)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"message": {}},
        {"message": {"message_id": ""}},
        {"ok": True, "result": {"message": {"message_id": None}}},
    ],
)
def test_an_update_without_a_message_id_is_refused(body: dict[str, object]) -> None:
    with pytest.raises((KeyError, TypeError, ValueError)):
        message_key(body)
