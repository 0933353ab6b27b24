"""The Telegram adapter's rendering, in process, over real HTTP to the fake Bot API."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from dialog import make_engine
from fakes.telegram_api import FakeTelegram

from bot.channels.telegram import TelegramChannel
from bot.engine import Button, Reply
from storage.memory import MemoryRepository


@pytest.fixture
async def channel() -> AsyncIterator[tuple[TelegramChannel, FakeTelegram]]:
    with FakeTelegram() as fake:
        telegram = TelegramChannel(make_engine(MemoryRepository()), fake.token, fake.base_url)
        await telegram.start()
        try:
            yield telegram, fake
        finally:
            await telegram.stop()


async def test_text_over_4096_characters_is_split_at_sentences_with_buttons_last(
    channel: tuple[TelegramChannel, FakeTelegram],
) -> None:
    telegram, fake = channel
    fake.send_message(77, "hi")
    sentence = "Đây là một câu dài để thử việc chia tin nhắn. "
    text = sentence * 200  # about 9,400 characters
    await telegram.send(77, [Reply(text, (Button("1:next", "Tiếp ▶"),))])
    sent = fake.sent(77)
    assert len(sent) == 3
    assert all(len(m["text"]) <= 4096 for m in sent)
    assert all(m["text"].endswith(".") for m in sent)
    assert "".join(m["text"] for m in sent).replace(" ", "") == text.replace(" ", "")
    assert [bool(m.get("reply_markup")) for m in sent] == [False, False, True]


async def test_buttons_are_one_per_row_with_short_callback_data(
    channel: tuple[TelegramChannel, FakeTelegram],
) -> None:
    telegram, fake = channel
    fake.send_message(78, "hi")
    buttons = (Button("12:m.next", "📚 Học tiếp"), Button("12:l." + "a" * 40, "Bài dài"))
    await telegram.send(78, [Reply("Chọn:", buttons)])
    keyboard = fake.sent(78)[-1]["reply_markup"]["inline_keyboard"]
    assert [len(row) for row in keyboard] == [1, 1]
    assert all(len(row[0]["callback_data"].encode()) <= 64 for row in keyboard)


async def test_stickers_get_an_answer_and_odd_updates_never_raise(
    channel: tuple[TelegramChannel, FakeTelegram],
) -> None:
    telegram, fake = channel
    fake.send_message(79, "hi")
    sticker = {
        "update_id": 5,
        "message": {
            "message_id": 9,
            "date": 1_700_000_000,
            "chat": {"id": 79, "type": "private"},
            "from": {"id": 79, "is_bot": False, "first_name": "A"},
            "sticker": {
                "file_id": "x",
                "file_unique_id": "y",
                "width": 1,
                "height": 1,
                "is_animated": False,
                "is_video": False,
                "type": "regular",
            },
        },
    }
    await telegram.dispatch(sticker)
    assert "Bạn có đồng ý không?" in fake.sent(79)[-1]["text"]
    await telegram.dispatch({"update_id": 6, "poll": {"id": "1"}})


async def test_a_burst_over_the_flood_limit_still_arrives_whole_and_in_order() -> None:
    with FakeTelegram(flood_limit=30) as fake:
        telegram = TelegramChannel(make_engine(MemoryRepository()), fake.token, fake.base_url)
        await telegram.start()
        try:
            fake.send_message(80, "hi")
            await telegram.send(80, [Reply(f"Tin số {i}") for i in range(45)])
        finally:
            await telegram.stop()
        texts = [m["text"] for m in fake.sent(80)]
        assert texts == [f"Tin số {i}" for i in range(45)]
        # Whatever the pacing let through, any 429 was waited out and retried, never dropped.
        statuses = [c["status"] for c in fake.calls("sendMessage")]
        assert statuses.count(200) == 45
