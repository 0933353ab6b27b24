"""Conformance tests for the fake Telegram Bot API, driven by independent clients.

python-telegram-bot's own `telegram.Bot` (pointed at the fake with `base_url`) checks that the
shapes it parses are right; raw httpx checks the error envelopes and the control side.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import warnings
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
import telegram
from fakes.telegram_api import FakeTelegram, parse_formatted, utf16_len
from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, NetworkError, RetryAfter
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

CHAT = 4242
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[telegram.Bot]:
    async with telegram.Bot(fake.token, base_url=fake.base_url) as client:
        yield client


def keyboard(*pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(t, callback_data=d)] for t, d in pairs])


def seconds(value: int | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def retry_after(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return seconds(exc.retry_after)


# ------------------------------------------------------------------ basics


async def test_get_me(bot: telegram.Bot, fake: FakeTelegram) -> None:
    me = await bot.get_me()
    assert me.is_bot and me.username == "hocvuso_test_bot" and me.id == 123456
    assert me.can_join_groups is True and me.supports_inline_queries is False


def test_start_and_stop_are_fast_and_leave_no_thread() -> None:
    before = set(threading.enumerate())
    began = time.monotonic()
    fake = FakeTelegram()
    fake.start()
    assert httpx.get(f"{fake.base_url}{fake.token}/getMe").json()["ok"] is True
    fake.stop()
    assert time.monotonic() - began < 1.5
    assert set(threading.enumerate()) <= before


def test_wrong_token_unknown_method_and_envelopes(fake: FakeTelegram) -> None:
    wrong = httpx.post(f"{fake.base_url}999:WRONG-token/getMe")
    assert wrong.status_code == 401
    assert wrong.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    unknown = httpx.post(f"{fake.base_url}{fake.token}/sendTelepathy")
    assert unknown.status_code == 404
    assert unknown.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    # method names are case-insensitive, parameters may come as query string
    ok = httpx.get(f"{fake.base_url}{fake.token}/getme")
    assert ok.json()["result"]["is_bot"] is True


async def test_stop_ends_a_waiting_long_poll() -> None:
    fake = FakeTelegram()
    fake.start()
    async with telegram.Bot(fake.token, base_url=fake.base_url) as bot:
        task = asyncio.create_task(bot.get_updates(timeout=20))
        await fake.wait_for_async(fake.is_polling, timeout=3)
        began = time.monotonic()
        await asyncio.to_thread(fake.stop)
        assert time.monotonic() - began < 1.0
        assert await asyncio.wait_for(task, timeout=3) == ()


async def test_wrong_token_raises_invalid_token(fake: FakeTelegram) -> None:
    with pytest.raises(InvalidToken):
        async with telegram.Bot("999:WRONG-token", base_url=fake.base_url):
            pass


# ------------------------------------------------------------------ getUpdates


async def test_user_message_becomes_a_proper_update(bot: telegram.Bot, fake: FakeTelegram) -> None:
    update_id = fake.send_message(CHAT, "/start ref-abc", first_name="Bác Tư")
    (update,) = await bot.get_updates()
    assert isinstance(update, Update) and update.update_id == update_id
    assert update.message is not None and update.message.text == "/start ref-abc"
    assert update.effective_user is not None and update.effective_user.first_name == "Bác Tư"
    assert update.effective_user.language_code == "vi" and not update.effective_user.is_bot
    assert update.effective_chat is not None and update.effective_chat.type == "private"
    (entity,) = update.message.entities
    assert (entity.type, entity.offset, entity.length) == ("bot_command", 0, len("/start"))
    assert update.message.date.timestamp() == pytest.approx(time.time(), abs=5)
    plain = fake.send_message(CHAT, "xin chào")
    later = await bot.get_updates(offset=update_id + 1)
    assert [u.update_id for u in later] == [plain] and later[0].message.entities == ()  # type: ignore[union-attr]


async def test_offsets_confirm_updates(bot: telegram.Bot, fake: FakeTelegram) -> None:
    ids = [fake.send_message(CHAT, f"tin {n}") for n in range(3)]
    assert ids == sorted(ids) and len(set(ids)) == 3
    assert [u.update_id for u in await bot.get_updates()] == ids
    assert [u.update_id for u in await bot.get_updates(limit=1)] == ids[:1]
    assert [u.update_id for u in await bot.get_updates(offset=ids[1])] == ids[1:]
    assert [u.update_id for u in await bot.get_updates()] == ids[1:]  # 0 was forgotten
    assert await bot.get_updates(offset=ids[2] + 1) == ()
    assert fake.pending_updates() == []


async def test_long_poll_returns_early_when_a_message_arrives(
    bot: telegram.Bot, fake: FakeTelegram
) -> None:
    task = asyncio.create_task(bot.get_updates(timeout=5))
    await fake.wait_for_async(fake.is_polling, timeout=3)
    began = time.monotonic()
    fake.send_message(CHAT, "có ai không?")
    updates = await asyncio.wait_for(task, timeout=4)
    assert time.monotonic() - began < 1.0
    assert [u.message.text for u in updates] == ["có ai không?"]  # type: ignore[union-attr]


async def test_long_poll_without_updates_waits_for_its_timeout(bot: telegram.Bot) -> None:
    began = time.monotonic()
    assert await bot.get_updates(timeout=1) == ()
    assert 0.9 <= time.monotonic() - began < 3


async def test_second_poller_terminates_the_first(bot: telegram.Bot, fake: FakeTelegram) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await fake.wait_for_async(fake.is_polling, timeout=3)
    async with telegram.Bot(fake.token, base_url=fake.base_url) as other:
        second = asyncio.create_task(other.get_updates(timeout=1))
        with pytest.raises(Conflict, match=r"(?i)terminated by other getUpdates request"):
            await asyncio.wait_for(first, timeout=4)
        assert await second == ()


# ------------------------------------------------------------------ messages and buttons


async def test_send_message_with_inline_keyboard_round_trips(
    bot: telegram.Bot, fake: FakeTelegram
) -> None:
    fake.send_message(CHAT, "/start")
    markup = keyboard(("Học bài", "lesson:1"), ("Làm quiz", "quiz:1"))
    message = await bot.send_message(CHAT, "Chào bác!", reply_markup=markup)
    assert message.message_id == 2  # ids count per chat, the user's /start was 1
    assert message.text == "Chào bác!" and message.reply_markup == markup
    assert message.from_user is not None and message.from_user.is_bot
    assert message.chat.id == CHAT and message.date.timestamp() == pytest.approx(time.time(), abs=5)
    (shown,) = fake.sent(CHAT)
    assert shown["message_id"] == 2 and shown["text"] == "Chào bác!" and not shown["edited"]
    assert shown["reply_markup"] == markup.to_dict()
    assert fake.calls("sendMessage")[0]["params"]["chat_id"] == str(CHAT)


async def test_reply_keyboard_is_stored_but_not_echoed(
    bot: telegram.Bot, fake: FakeTelegram
) -> None:
    fake.send_message(CHAT, "hi")
    message = await bot.send_message(CHAT, "Chọn:", reply_markup=ReplyKeyboardMarkup([["Có"]]))
    assert message.reply_markup is None
    assert fake.sent(CHAT)[0]["reply_markup"]["keyboard"] == [[{"text": "Có"}]]
    with pytest.raises(BadRequest, match=r"(?i)can't be edited"):
        await bot.edit_message_text("Sửa", CHAT, message.message_id)


async def test_unknown_chat_and_blocked_user(bot: telegram.Bot, fake: FakeTelegram) -> None:
    with pytest.raises(BadRequest, match=r"(?i)Chat not found"):
        await bot.send_message(777, "ai đó?")
    fake.send_message(CHAT, "hi")
    fake.block(CHAT)
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await bot.send_message(CHAT, "còn đó không?")


async def test_press_button_gives_a_callback_query(bot: telegram.Bot, fake: FakeTelegram) -> None:
    first = fake.send_message(CHAT, "/start")
    sent = await bot.send_message(
        CHAT, "Câu 1?", reply_markup=keyboard(("A", "q1:a"), ("B", "q1:b"))
    )
    update_id = fake.press_button(CHAT, sent.message_id, "q1:b")
    (update,) = await bot.get_updates(offset=first + 1)
    assert update.update_id == update_id
    query = update.callback_query
    assert query is not None and query.data == "q1:b" and query.chat_instance
    assert query.from_user.id == CHAT
    assert isinstance(query.message, telegram.Message)  # accessible: it has a real date
    assert query.message.message_id == sent.message_id and query.message.chat.id == CHAT
    assert query.message.reply_markup == sent.reply_markup
    assert fake.unanswered_callbacks() == {query.id}
    with pytest.raises(ValueError, match=r"(?i)no button"):
        fake.press_button(CHAT, sent.message_id, "q1:z")
    with pytest.raises(ValueError, match=r"(?i)no bot message"):
        fake.press_button(CHAT, 99, "q1:a")
    forged = fake.press_button(CHAT, sent.message_id, "garbage' OR 1=1", forge=True)
    (update,) = await bot.get_updates(offset=update_id + 1)
    assert update.update_id == forged and update.callback_query.data == "garbage' OR 1=1"  # type: ignore[union-attr]


async def test_answer_callback_query_works_once(bot: telegram.Bot, fake: FakeTelegram) -> None:
    fake.send_message(CHAT, "/start")
    sent = await bot.send_message(CHAT, "Câu 1?", reply_markup=keyboard(("A", "a")))
    fake.press_button(CHAT, sent.message_id, "a")
    query = (await bot.get_updates())[-1].callback_query
    assert query is not None
    with pytest.raises(BadRequest, match=r"(?i)Message_too_long"):
        await bot.answer_callback_query(query.id, text="x" * 201)
    assert await bot.answer_callback_query(query.id, text="Đúng rồi!") is True
    assert fake.answered_callbacks() == {query.id} and fake.unanswered_callbacks() == set()
    assert fake.callback_answer(query.id) == {"text": "Đúng rồi!", "show_alert": False, "url": None}
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(query.id)
    with pytest.raises(BadRequest, match=r"(?i)query ID is invalid"):
        await bot.answer_callback_query("12345")


async def test_late_callback_answer_is_refused() -> None:
    with FakeTelegram(callback_answer_timeout=0.0) as fake:
        fake.send_message(CHAT, "hi")
        async with telegram.Bot(fake.token, base_url=fake.base_url) as bot:
            sent = await bot.send_message(CHAT, "?", reply_markup=keyboard(("A", "a")))
            fake.press_button(CHAT, sent.message_id, "a")
            query = (await bot.get_updates())[-1].callback_query
            assert query is not None
            with pytest.raises(BadRequest, match=r"(?i)query is too old"):
                await bot.answer_callback_query(query.id)


async def test_edit_message_text(bot: telegram.Bot, fake: FakeTelegram) -> None:
    fake.send_message(CHAT, "/start")
    markup = keyboard(("A", "a"))
    sent = await bot.send_message(CHAT, "Câu 1?", reply_markup=markup)
    edited = await bot.edit_message_text("Câu 1: đúng!", CHAT, sent.message_id, reply_markup=markup)
    assert isinstance(edited, telegram.Message) and edited.text == "Câu 1: đúng!"
    assert edited.edit_date is not None and edited.reply_markup == markup
    assert fake.sent(CHAT)[0]["text"] == "Câu 1: đúng!" and fake.sent(CHAT)[0]["edited"]
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("Câu 1: đúng!", CHAT, sent.message_id, reply_markup=markup)
    # like Telegram: editing the text without reply_markup removes the keyboard
    edited = await bot.edit_message_text("Câu 1: đúng!", CHAT, sent.message_id)
    assert isinstance(edited, telegram.Message) and edited.reply_markup is None
    assert fake.sent(CHAT)[0]["reply_markup"] is None
    with pytest.raises(BadRequest, match=r"(?i)Message to edit not found"):
        await bot.edit_message_text("x", CHAT, 999)
    with pytest.raises(BadRequest, match=r"(?i)Message can't be edited"):
        await bot.edit_message_text("x", CHAT, 1)  # the user's own message


async def test_edit_message_reply_markup(bot: telegram.Bot, fake: FakeTelegram) -> None:
    fake.send_message(CHAT, "/start")
    sent = await bot.send_message(CHAT, "Câu 1?", reply_markup=keyboard(("A", "a")))
    edited = await bot.edit_message_reply_markup(
        CHAT, sent.message_id, reply_markup=keyboard(("B", "b"))
    )
    assert isinstance(edited, telegram.Message) and edited.reply_markup == keyboard(("B", "b"))
    edited = await bot.edit_message_reply_markup(CHAT, sent.message_id)
    assert isinstance(edited, telegram.Message) and edited.reply_markup is None
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_reply_markup(CHAT, sent.message_id)
    assert fake.sent(CHAT)[0]["reply_markup"] is None and fake.sent(CHAT)[0]["text"] == "Câu 1?"
    assert await bot.delete_message(CHAT, sent.message_id) is True
    assert fake.sent(CHAT) == []
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(CHAT, sent.message_id)


async def test_text_limits(bot: telegram.Bot, fake: FakeTelegram) -> None:
    fake.send_message(CHAT, "hi")
    assert (await bot.send_message(CHAT, "ă" * 4096)).text == "ă" * 4096
    with pytest.raises(BadRequest, match=r"(?i)Message is too long"):
        await bot.send_message(CHAT, "a" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)Message is too long"):
        await bot.send_message(CHAT, "😀" * 2049)  # 4098 UTF-16 code units
    with pytest.raises(BadRequest, match=r"(?i)Message text is empty"):
        await bot.send_message(CHAT, "   ")
    assert utf16_len("😀ă") == 3


async def test_callback_data_over_64_bytes_is_refused(
    bot: telegram.Bot, fake: FakeTelegram
) -> None:
    fake.send_message(CHAT, "hi")
    ok = "đ" * 32  # 64 bytes in UTF-8
    await bot.send_message(CHAT, "ok", reply_markup=keyboard(("A", ok)))
    with pytest.raises(BadRequest, match=r"(?i)Button_data_invalid"):
        await bot.send_message(CHAT, "no", reply_markup=keyboard(("A", ok + "x")))
    raw = httpx.post(
        f"{fake.base_url}{fake.token}/sendMessage",
        json={"chat_id": CHAT, "text": "no", "reply_markup": {"inline_keyboard": [[
            {"text": "A", "callback_data": "x" * 65}]]}},
    )  # fmt: skip
    assert raw.status_code == 400
    assert raw.json() == {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: BUTTON_DATA_INVALID",
    }
    raw = httpx.post(
        f"{fake.base_url}{fake.token}/sendMessage",
        json={
            "chat_id": CHAT,
            "text": "no",
            "reply_markup": {"inline_keyboard": [[{"text": "A"}]]},
        },
    )
    assert "Text buttons are unallowed" in raw.json()["description"]


async def test_parse_modes(bot: telegram.Bot, fake: FakeTelegram) -> None:
    fake.send_message(CHAT, "hi")
    message = await bot.send_message(CHAT, "<b>Chào</b> bác &amp; cô", parse_mode="HTML")
    assert message.text == "Chào bác & cô"
    assert [(e.type, e.offset, e.length) for e in message.entities] == [("bold", 0, 4)]
    with pytest.raises(BadRequest, match=r'(?i)Unsupported start tag "br"'):
        await bot.send_message(CHAT, "a<br>b", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)Can't find end tag"):
        await bot.send_message(CHAT, "<b>a", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)Character '.' is reserved"):
        await bot.send_message(CHAT, "*Chào* bác.", parse_mode="MarkdownV2")
    message = await bot.send_message(CHAT, r"*Chào* bác\.", parse_mode="MarkdownV2")
    assert message.text == "Chào bác." and message.entities[0].type == "bold"
    assert parse_formatted("[web](https://a.vn) `x`", "MarkdownV2")[1] == [
        {"type": "text_link", "offset": 0, "length": 3, "url": "https://a.vn"},
        {"type": "code", "offset": 4, "length": 1},
    ]
    assert parse_formatted("*đậm* _nghiêng_", "Markdown")[0] == "đậm nghiêng"
    # the limit counts the text after entity parsing
    await bot.send_message(CHAT, "<b>" + "a" * 4096 + "</b>", parse_mode="HTML")


async def test_photo_and_voice(bot: telegram.Bot, fake: FakeTelegram) -> None:
    fake.send_message(CHAT, "hi")
    picture = b"\x89PNG\r\n\x1a\n fake bytes"
    uploaded = await bot.send_photo(CHAT, picture, caption="Ảnh 1")
    assert uploaded.photo and uploaded.caption == "Ảnh 1"
    again = await bot.send_photo(CHAT, uploaded.photo[-1].file_id)
    assert again.photo[-1].file_id == uploaded.photo[-1].file_id
    by_url = await bot.send_photo(
        CHAT, "https://example.org/a.png", reply_markup=keyboard(("A", "a"))
    )
    assert by_url.reply_markup is not None
    with pytest.raises(BadRequest, match=r"(?i)caption is too long"):
        await bot.send_photo(CHAT, "https://example.org/a.png", caption="c" * 1025)
    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
        await bot.send_photo(CHAT, "not-a-file-id")
    voice = await bot.send_voice(CHAT, b"OggS fake voice", duration=3)
    assert voice.voice is not None and voice.voice.duration in (3, timedelta(seconds=3))
    shown = fake.sent(CHAT)
    assert shown[0]["caption"] == "Ảnh 1" and len(shown[0]["photo"]) == 2 and "voice" in shown[-1]
    assert fake.calls("sendPhoto")[0]["params"]["photo"]["size"] == len(picture)
    with pytest.raises(BadRequest, match=r"(?i)there is no text in the message to edit"):
        await bot.edit_message_text("x", CHAT, uploaded.message_id)


async def test_chat_action_and_commands(bot: telegram.Bot, fake: FakeTelegram) -> None:
    fake.send_message(CHAT, "hi")
    assert await bot.send_chat_action(CHAT, "typing") is True
    with pytest.raises(BadRequest, match=r"(?i)wrong parameter action"):
        await bot.send_chat_action(CHAT, "dancing")
    commands = [BotCommand("start", "Bắt đầu"), BotCommand("hoc", "Học bài")]
    assert await bot.set_my_commands(commands) is True
    assert list(await bot.get_my_commands()) == commands
    assert await bot.get_my_commands(language_code="en") == ()
    with pytest.raises(BadRequest, match=r"(?i)Bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Hoc", "Học")])
    with pytest.raises(BadRequest, match=r"(?i)Bot_command_invalid"):
        await bot.set_my_commands([BotCommand("/hoc", "Học")])
    assert await bot.delete_my_commands() is True
    assert await bot.get_my_commands() == ()
    assert [c["status"] for c in fake.calls("setMyCommands")] == [200, 400, 400]


# ------------------------------------------------------------------ failures and limits


async def test_fail_next(bot: telegram.Bot, fake: FakeTelegram) -> None:
    fake.send_message(CHAT, "hi")
    fake.fail_next("sendMessage", status=429, retry_after=1)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(CHAT, "a")
    assert retry_after(caught.value) == 1
    fake.fail_next("sendMessage", status=500)
    with pytest.raises(NetworkError, match=r"(?i)Internal Server Error"):
        await bot.send_message(CHAT, "a")
    fake.fail_next("sendMessage", status=502)
    with pytest.raises(NetworkError, match=r"(?i)Bad Gateway"):
        await bot.send_message(CHAT, "a")
    assert (await bot.send_message(CHAT, "a")).text == "a"
    assert [c["status"] for c in fake.calls("sendMessage")] == [429, 500, 502, 200]
    fake.fail_next("getMe", count=2, status=502)
    raw = httpx.get(f"{fake.base_url}{fake.token}/getMe")
    assert raw.status_code == 502 and raw.headers["content-type"].startswith("text/html")
    assert "<html>" in raw.text


async def test_flood_limit() -> None:
    with FakeTelegram(flood_limit=5) as fake:
        fake.send_message(CHAT, "hi")
        async with telegram.Bot(fake.token, base_url=fake.base_url) as bot:
            for n in range(5):
                await bot.send_message(CHAT, f"tin {n}")
            with pytest.raises(RetryAfter) as caught:
                await bot.send_message(CHAT, "tin 6")
            assert retry_after(caught.value) == 1
        raw = httpx.post(
            f"{fake.base_url}{fake.token}/sendMessage", data={"chat_id": CHAT, "text": "x"}
        )
        if raw.status_code == 429:  # still inside the same second
            assert raw.json() == {
                "ok": False, "error_code": 429, "description": "Too Many Requests: retry after 1",
                "parameters": {"retry_after": 1},
            }  # fmt: skip
        assert len(fake.sent(CHAT)) == 5 + (raw.status_code == 200)


# ------------------------------------------------------------------ webhook


class Receiver:
    """A tiny HTTP server on plain asyncio that answers with scripted status codes."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses, self.received = list(statuses), list[dict[str, Any]]()
        self.server: asyncio.Server | None = None
        self.url = ""

    async def __aenter__(self) -> Receiver:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/hook"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode()
        lines = head.split("\r\n")
        headers = {
            k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:] if h)
        }
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        status = self.statuses.pop(0) if self.statuses else 200
        self.received.append({"line": lines[0], "headers": headers, "update": json.loads(body)})
        writer.write(
            f"HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode()
        )
        await writer.drain()
        writer.close()


async def test_webhook_retries_until_2xx_with_secret(bot: telegram.Bot, fake: FakeTelegram) -> None:
    async with Receiver([500, 500, 200]) as receiver:
        assert await bot.set_webhook(receiver.url, secret_token="s3cr3t_-X") is True
        first = fake.send_message(CHAT, "xin chào")
        second = fake.send_message(CHAT, "tin sau")
        await fake.wait_for_async(lambda: fake.webhook()["pending"] == 0, timeout=5)
        ids = [r["update"]["update_id"] for r in receiver.received]
        assert ids == [first, first, first, second]  # the second waited behind the first
        assert all(r["line"].startswith("POST /hook ") for r in receiver.received)
        assert {r["headers"]["x-telegram-bot-api-secret-token"] for r in receiver.received} == {
            "s3cr3t_-X"
        }
        assert receiver.received[0]["update"]["message"]["text"] == "xin chào"
        assert [a["status"] for a in fake.webhook()["attempts"]] == [500, 500, 200, 200]
        info = await bot.get_webhook_info()
        assert info.url == receiver.url and info.pending_update_count == 0
        assert (
            info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"
        )
        with pytest.raises(
            Conflict, match=r"(?i)can't use getUpdates method while webhook is active"
        ):
            await bot.get_updates()
        for _ in range(4):  # "delivered five times"
            fake.redeliver(first)
        await fake.wait_for_async(lambda: fake.webhook()["pending"] == 0, timeout=5)
        assert [r["update"]["update_id"] for r in receiver.received[4:]] == [first] * 4
        ok = [d for d in fake.webhook()["deliveries"] if d["status"] == 200]
        assert [d["update_id"] for d in ok].count(first) == 5
        assert await bot.delete_webhook() is True
        third = fake.send_message(CHAT, "lúc không có webhook")
        assert [u.update_id for u in await bot.get_updates()] == [third]
        assert len(receiver.received) == 8


async def test_webhook_connection_errors_are_retried(bot: telegram.Bot, fake: FakeTelegram) -> None:
    async with Receiver([]) as receiver:
        url = receiver.url
    await bot.set_webhook(url)  # nobody listens there any more
    fake.send_message(CHAT, "hello")
    await fake.wait_for_async(lambda: len(fake.webhook()["attempts"]) >= 2, timeout=5)
    attempts = fake.webhook()["attempts"]
    assert attempts[0]["status"] is None and "Connection failed" in attempts[0]["error"]
    assert fake.webhook()["pending"] == 1
    assert (await bot.get_webhook_info()).pending_update_count == 1


async def test_set_webhook_validation(bot: telegram.Bot, fake: FakeTelegram) -> None:
    with pytest.raises(BadRequest, match=r"(?i)secret token contains unallowed characters"):
        await bot.set_webhook("https://bot.example.vn/hook", secret_token="có dấu")
    with pytest.raises(BadRequest, match=r"(?i)HTTPS URL must be provided"):
        await bot.set_webhook("http://bot.example.vn/hook")
    await bot.set_webhook(
        "https://bot.example.vn/hook", allowed_updates=["message"], drop_pending_updates=True
    )
    assert fake.calls("setWebhook")[-1]["params"]["allowed_updates"] == '["message"]'
    assert fake.webhook()["url"] == "https://bot.example.vn/hook"
    assert fake.webhook()["allowed_updates"] == ["message"]


async def test_allowed_updates_drop_other_kinds(bot: telegram.Bot, fake: FakeTelegram) -> None:
    fake.send_message(CHAT, "hi")
    sent = await bot.send_message(CHAT, "?", reply_markup=keyboard(("A", "a")))
    await bot.get_updates(offset=-1, allowed_updates=["message"])
    fake.press_button(CHAT, sent.message_id, "a")  # never created: not allowed
    kept = fake.send_message(CHAT, "tin")
    assert [u.update_id for u in await bot.get_updates()][-1] == kept
    assert all(u.callback_query is None for u in await bot.get_updates())


# ------------------------------------------------------------------ control side and helpers


def test_control_endpoints_over_http(fake: FakeTelegram) -> None:
    control = httpx.Client(base_url=f"{fake.url}/_control")
    api = f"{fake.base_url}{fake.token}"
    update_id = control.post("/send_message", json={"chat_id": CHAT, "text": "/start"}).json()[
        "result"
    ]
    updates = httpx.post(f"{api}/getUpdates", data={"offset": "0"}).json()["result"]
    assert [u["update_id"] for u in updates] == [update_id]
    markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    httpx.post(
        f"{api}/sendMessage",
        data={"chat_id": str(CHAT), "text": "Hỏi", "reply_markup": json.dumps(markup)},
    )
    sent = control.get("/sent", params={"chat_id": CHAT}).json()["result"]
    assert sent[0]["text"] == "Hỏi" and sent[0]["reply_markup"] == markup
    pressed = control.post("/press_button", json={"chat_id": CHAT, "message_id": 2, "data": "a"})
    assert pressed.json()["ok"] is True
    missing = control.post("/press_button", json={"chat_id": CHAT, "message_id": 2, "data": "b"})
    assert missing.status_code == 400 and "no button" in missing.json()["description"]
    assert len(control.get("/unanswered_callbacks").json()["result"]) == 1
    control.post("/fail_next", json={"method": "getMe", "status": 500})
    assert httpx.get(f"{api}/getMe").status_code == 500
    assert control.get("/calls", params={"method": "getMe"}).json()["result"][0]["status"] == 500
    raw = control.post("/send_raw_update", json={"update": {"edited_message": {"message_id": 1}}})
    assert raw.json()["result"] == pressed.json()["result"] + 1
    assert control.get("/webhook").json()["result"]["url"] == ""
    assert control.post("/reset").json()["ok"] is True
    assert fake.sent(CHAT) == [] and fake.calls() == []


def test_parameters_as_json_form_and_query(fake: FakeTelegram) -> None:
    fake.send_message(CHAT, "hi")
    api = f"{fake.base_url}{fake.token}"
    assert httpx.post(f"{api}/sendMessage", json={"chat_id": CHAT, "text": "json"}).json()["ok"]
    assert httpx.post(f"{api}/sendMessage", data={"chat_id": CHAT, "text": "form"}).json()["ok"]
    assert httpx.get(f"{api}/sendMessage", params={"chat_id": CHAT, "text": "query"}).json()["ok"]
    assert [m["text"] for m in fake.sent(CHAT)] == ["json", "form", "query"]
    missing = httpx.post(f"{api}/sendMessage", json={"text": "no chat"}).json()
    assert missing["description"] == "Bad Request: chat_id is empty"


def test_wait_for_returns_the_value_or_fails_with_a_dump(fake: FakeTelegram) -> None:
    fake.send_message(CHAT, "hi")
    threading.Timer(
        0.05,
        lambda: httpx.post(
            f"{fake.base_url}{fake.token}/sendMessage", data={"chat_id": CHAT, "text": "x"}
        ),
    ).start()
    assert fake.wait_for(lambda: fake.sent(CHAT), timeout=5)[0]["text"] == "x"
    with pytest.raises(AssertionError, match=r"(?i)two replies") as caught:
        fake.wait_for(lambda: len(fake.sent(CHAT)) >= 2, timeout=0.2, what="two replies")
    assert '"text": "x"' in str(caught.value)


async def test_python_telegram_bot_application_end_to_end(fake: FakeTelegram) -> None:
    """A real PTB Application polls the fake, answers /start and a button press."""

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        await update.message.reply_text(
            f"Chào! {context.args}", reply_markup=keyboard(("Tiếp", "next"))
        )

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer()
        await query.edit_message_text("Đã bấm")

    app = Application.builder().token(fake.token).base_url(fake.base_url).build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(pressed))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        try:
            fake.send_message(CHAT, "/start ref-abc")
            sent = await fake.wait_for_async(lambda: fake.sent(CHAT), timeout=10)
            assert sent[0]["text"] == "Chào! ['ref-abc']"
            fake.press_button(CHAT, sent[0]["message_id"], "next")
            await fake.wait_for_async(lambda: fake.sent(CHAT)[0]["text"] == "Đã bấm", timeout=10)
            assert fake.unanswered_callbacks() == set() and len(fake.answered_callbacks()) == 1
        finally:
            await app.updater.stop()
            await app.stop()
    assert fake.calls("deleteWebhook") and fake.pending_updates() == []
