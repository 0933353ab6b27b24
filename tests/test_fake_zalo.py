"""Conformance tests for the fake Zalo Bot API, driven by independent clients.

python-zalo-bot 0.1.9 (`zalo_bot.Bot(token, base_url=fake.url)`) checks that the shapes it
parses are right; raw httpx checks the error envelopes, which that library mostly hides: on
HTTP 200 it returns `result` without looking at `ok`, so an error inside an HTTP 200 reply
comes back as `None`, never as an exception.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import zalo_bot
from fakes.zalo_api import FakeZalo, random_id
from zalo_bot.error import InvalidToken, NetworkError, ZaloError

CHAT = "6ede9afa66b88fe6d6a9"
SECRET = "hook-secret-123"


@pytest.fixture
def fake() -> Iterator[FakeZalo]:
    with FakeZalo() as server:
        yield server


@pytest.fixture
async def bot(fake: FakeZalo) -> AsyncIterator[zalo_bot.Bot]:
    async with zalo_bot.Bot(fake.token, base_url=fake.url) as client:
        yield client


def api(fake: FakeZalo, method: str, **params: Any) -> httpx.Response:
    """A raw JSON call, to see the envelope python-zalo-bot does not show."""
    return httpx.post(f"{fake.api_url}/{method}", json=params)


# ------------------------------------------------------------------ basics


async def test_get_me(bot: zalo_bot.Bot) -> None:
    me = await bot.get_me()
    assert isinstance(me, zalo_bot.User) and me.id == "1459232241454765289"
    assert me.account_name == "bot.hocvuso" and me.account_type == "BASIC"
    assert me.can_join_groups is False


def test_start_and_stop_are_fast_and_leave_no_thread() -> None:
    before = set(threading.enumerate())
    began = time.monotonic()
    fake = FakeZalo()
    fake.start()
    assert fake.url.startswith("http://127.0.0.1:")
    assert httpx.get(f"{fake.api_url}/getMe").json()["ok"] is True
    fake.stop()
    assert time.monotonic() - began < 1.5
    assert set(threading.enumerate()) <= before


async def test_stop_ends_a_waiting_long_poll() -> None:
    fake = FakeZalo()
    fake.start()
    async with zalo_bot.Bot(fake.token, base_url=fake.url) as bot:
        task = asyncio.create_task(bot.get_update(timeout=20))
        await fake.wait_for_async(fake.is_polling, timeout=3)
        began = time.monotonic()
        await asyncio.to_thread(fake.stop)
        assert time.monotonic() - began < 1.0
        assert await asyncio.wait_for(task, timeout=3) is None  # a 408 inside HTTP 200


async def test_wrong_token_unknown_method_and_case(fake: FakeZalo) -> None:
    wrong = httpx.post(f"{fake.url}/botWRONG-token/getMe")
    assert wrong.status_code == 401
    assert wrong.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    unknown = httpx.post(f"{fake.api_url}/editMessageText")
    assert unknown.status_code == 404
    assert unknown.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    assert httpx.get(f"{fake.api_url}/getme").status_code == 404  # names are case-sensitive
    assert httpx.get(f"{fake.api_url}/getMe").json()["ok"] is True  # GET works too
    with pytest.raises(InvalidToken):
        async with zalo_bot.Bot("WRONG-token", base_url=fake.url):
            pass


# ------------------------------------------------------------------ getUpdates


async def test_user_text_becomes_one_update(bot: zalo_bot.Bot, fake: FakeZalo) -> None:
    message_id = fake.send_text(CHAT, "Xin chào bot", display_name="Bác Tư")
    update = await bot.get_update(timeout=1)
    assert isinstance(update, zalo_bot.Update) and update.message is not None
    message = update.message
    assert message.message_id == message_id and message.text == "Xin chào bot"
    assert message.chat.id == CHAT and message.chat.type == "PRIVATE"
    assert message.from_user is not None and message.from_user.id == CHAT
    assert message.from_user.display_name == "Bác Tư" and message.from_user.is_bot is False
    assert message.date.timestamp() == pytest.approx(time.time(), abs=5)  # date was in ms
    assert update.api_kwargs["event_name"] == "message.text.received"
    assert fake.pending_updates() == []


async def test_updates_come_one_at_a_time_and_are_consumed(
    bot: zalo_bot.Bot, fake: FakeZalo
) -> None:
    ids = [fake.send_text(CHAT, f"tin {n}") for n in range(3)]
    assert len(set(ids)) == 3 and all(len(i) == 20 for i in ids)
    raw = httpx.post(f"{fake.api_url}/getUpdates", json={"timeout": "1"}).json()
    assert raw["ok"] is True and isinstance(raw["result"], dict)  # ONE update, not a list
    assert raw["result"]["message"]["message_id"] == ids[0]
    got = [await bot.get_update(timeout=1) for _ in range(2)]
    assert [u.message.message_id for u in got if u and u.message] == ids[1:]
    assert fake.pending_updates() == []


async def test_empty_long_poll_answers_408_inside_http_200(
    bot: zalo_bot.Bot, fake: FakeZalo
) -> None:
    began = time.monotonic()
    assert await bot.get_update(timeout=1) is None  # python-zalo-bot hides the 408
    assert 0.9 <= time.monotonic() - began < 3
    raw = httpx.post(f"{fake.api_url}/getUpdates", data={"timeout": "0.2"})  # form, string
    assert raw.status_code == 200
    assert raw.json() == {"ok": False, "error_code": 408, "description": "Request timeout"}
    assert [c["error_code"] for c in fake.calls("getUpdates")] == [408, 408]


async def test_long_poll_returns_early_when_a_message_arrives(
    bot: zalo_bot.Bot, fake: FakeZalo
) -> None:
    task = asyncio.create_task(bot.get_update(timeout=5))
    await fake.wait_for_async(fake.is_polling, timeout=3)
    began = time.monotonic()
    fake.send_text(CHAT, "có ai không?")
    update = await asyncio.wait_for(task, timeout=4)
    assert time.monotonic() - began < 1.0
    assert update is not None and update.message is not None
    assert update.message.text == "có ai không?"


async def test_image_sticker_and_unsupported_updates(bot: zalo_bot.Bot, fake: FakeZalo) -> None:
    fake.send_image(CHAT, "https://photo.zdn.vn/a.jpg", caption="Ảnh giấy tờ")
    fake.send_sticker(CHAT)
    fake.send_unsupported(CHAT)
    image, sticker, unsupported = [await bot.get_update(timeout=1) for _ in range(3)]
    assert image is not None and image.message is not None
    assert image.message.photo_url == "https://photo.zdn.vn/a.jpg" and image.message.text is None
    assert image.api_kwargs["event_name"] == "message.image.received"
    assert image.message.api_kwargs["caption"] == "Ảnh giấy tờ"
    assert sticker is not None and sticker.message is not None
    assert sticker.message.sticker == "0e078a2fb66a5f34067b"
    assert sticker.message.api_kwargs["url"].startswith("https://")
    assert unsupported is not None and unsupported.message is not None
    assert unsupported.api_kwargs["event_name"] == "message.unsupported.received"
    assert unsupported.message.text is None and unsupported.message.chat.id == CHAT
    fake.send_image(CHAT, "https://photo.zdn.vn/b.jpg", photo_field="photo")  # the docs' name
    other = api(fake, "getUpdates", timeout="1").json()["result"]["message"]
    assert other["photo"] == "https://photo.zdn.vn/b.jpg" and "photo_url" not in other


# ------------------------------------------------------------------ sending


async def test_send_message_returns_id_and_date(bot: zalo_bot.Bot, fake: FakeZalo) -> None:
    fake.send_text(CHAT, "hi")
    message = await bot.send_message(CHAT, "Chào bác! Gõ 1 để học, 2 để làm bài.")
    assert isinstance(message.message_id, str) and len(message.message_id) == 20
    assert message.date.timestamp() == pytest.approx(time.time(), abs=5)
    (shown,) = fake.sent(CHAT)
    assert shown["message_id"] == message.message_id and shown["kind"] == "text"
    assert shown["text"] == "Chào bác! Gõ 1 để học, 2 để làm bài."
    assert fake.calls("sendMessage")[0]["params"] == {"chat_id": CHAT, "text": shown["text"]}


async def test_text_limits_are_errors_inside_http_200(bot: zalo_bot.Bot, fake: FakeZalo) -> None:
    fake.send_text(CHAT, "hi")
    assert (await bot.send_message(CHAT, "ă" * 2000)) is not None
    assert await bot.send_message(CHAT, "a" * 2001) is None  # the library swallows ok: false
    raw = api(fake, "sendMessage", chat_id=CHAT, text="a" * 2001)
    assert raw.status_code == 200 and raw.json()["ok"] is False
    assert raw.json()["error_code"] == 400 and "too long" in raw.json()["description"]
    emoji = api(fake, "sendMessage", chat_id=CHAT, text="😀" * 1001).json()  # 2002 UTF-16 units
    assert emoji["ok"] is False and emoji["error_code"] == 400
    for empty in ("", "   "):
        answer = api(fake, "sendMessage", chat_id=CHAT, text=empty).json()
        assert answer["ok"] is False and "empty" in answer["description"]
    assert [m["text"] for m in fake.sent(CHAT)] == ["ă" * 2000]


async def test_unknown_chat_is_an_error_inside_http_200(bot: zalo_bot.Bot, fake: FakeZalo) -> None:
    assert await bot.send_message(random_id(), "ai đó?") is None
    raw = api(fake, "sendMessage", chat_id=random_id(), text="ai đó?")
    assert raw.status_code == 200 and raw.json()["error_code"] == 400
    assert "chat not found" in raw.json()["description"]
    missing = api(fake, "sendMessage", text="no chat").json()
    assert missing == {"ok": False, "error_code": 400, "description": "chat_id is required"}


async def test_fail_next_inside_http_200(bot: zalo_bot.Bot, fake: FakeZalo) -> None:
    fake.send_text(CHAT, "hi")
    fake.fail_next("sendMessage", error_code=403, http_status=200)
    assert await bot.send_message(CHAT, "a") is None  # silently: only `ok` tells
    fake.fail_next("sendMessage", error_code=400, http_status=200, description="Bad request")
    raw = api(fake, "sendMessage", chat_id=CHAT, text="a")
    assert raw.status_code == 200
    assert raw.json() == {"ok": False, "error_code": 400, "description": "Bad request"}
    assert (await bot.send_message(CHAT, "b")) is not None
    calls = fake.calls("sendMessage")
    assert [(c["status"], c["ok"], c["error_code"]) for c in calls] == [
        (200, False, 403), (200, False, 400), (200, True, None),
    ]  # fmt: skip
    assert [m["text"] for m in fake.sent(CHAT)] == ["b"]


async def test_fail_next_with_real_statuses(bot: zalo_bot.Bot, fake: FakeZalo) -> None:
    fake.send_text(CHAT, "hi")
    fake.fail_next("sendMessage")  # 429 "Quota exceeded" with HTTP 429
    with pytest.raises(NetworkError, match=r"Quota exceeded \(429\)"):
        await bot.send_message(CHAT, "a")
    fake.fail_next("sendMessage", error_code=502)
    with pytest.raises(ZaloError, match="Invalid server response"):  # an HTML page
        await bot.send_message(CHAT, "a")
    raw = httpx.get(f"{fake.api_url}/getMe")
    assert raw.status_code == 200
    fake.fail_next("getMe", error_code=502)
    raw = httpx.get(f"{fake.api_url}/getMe")
    assert raw.status_code == 502 and raw.headers["content-type"].startswith("text/html")
    fake.fail_next("getUpdates", error_code=408, http_status=408)  # the other 408 variant
    with pytest.raises(NetworkError, match=r"Request timeout \(408\)"):
        await bot.get_update(timeout=1)
    assert [c["status"] for c in fake.calls("sendMessage")] == [429, 502]


async def test_photo_sticker_and_chat_action(bot: zalo_bot.Bot, fake: FakeZalo) -> None:
    fake.send_text(CHAT, "hi")
    photo = await bot.send_photo(CHAT, "Bước 1", "https://example.org/b1.png")
    sticker = await bot.send_sticker(CHAT, "0e078a2fb66a5f34067b")
    assert photo.message_id and sticker.message_id and photo.message_id != sticker.message_id
    assert await bot.send_chat_action(CHAT, "typing") is True
    assert await bot.send_chat_action(CHAT, "record_voice") is None  # ok: false, HTTP 200
    assert await bot.send_photo(CHAT, "x", "not-a-url") is None
    assert await bot.send_photo(CHAT, "c" * 2001, "https://example.org/b1.png") is None
    shown = fake.sent(CHAT)
    assert [m["kind"] for m in shown] == ["photo", "sticker"]
    assert shown[0]["photo"] == "https://example.org/b1.png" and shown[0]["caption"] == "Bước 1"
    assert shown[1]["sticker"] == "0e078a2fb66a5f34067b"


def test_reply_markup_is_ignored_but_recorded(fake: FakeZalo) -> None:
    fake.send_text(CHAT, "hi")
    markup = {"inline_keyboard": [[{"text": "Học", "callback_data": "lesson:1"}]]}
    answer = api(fake, "sendMessage", chat_id=CHAT, text="Chọn:", reply_markup=markup)
    assert answer.json()["ok"] is True
    assert set(answer.json()["result"]) == {"message_id", "date"}
    assert fake.sent(CHAT)[0]["text"] == "Chọn:" and "reply_markup" not in fake.sent(CHAT)[0]
    (call,) = fake.calls("sendMessage")
    assert call["ignored"] == ["reply_markup"] and call["params"]["reply_markup"] == markup
    api(fake, "sendMessage", chat_id=CHAT, text="plain")
    assert not any(c["ignored"] for c in fake.calls("sendMessage")[1:])


def test_parameters_as_json_form_query_and_multipart(fake: FakeZalo) -> None:
    fake.send_text(CHAT, "hi")
    url = f"{fake.api_url}/sendMessage"
    assert httpx.post(url, json={"chat_id": CHAT, "text": "json"}).json()["ok"]
    assert httpx.post(url, data={"chat_id": CHAT, "text": "form"}).json()["ok"]
    assert httpx.get(url, params={"chat_id": CHAT, "text": "query"}).json()["ok"]
    multipart = {"chat_id": (None, CHAT), "text": (None, "nhiều phần")}
    assert httpx.post(url, files=multipart).json()["ok"]
    assert [m["text"] for m in fake.sent(CHAT)] == ["json", "form", "query", "nhiều phần"]


async def test_quota_per_minute() -> None:
    with FakeZalo(quota_per_minute=2) as fake:
        fake.send_text(CHAT, "hi")
        async with zalo_bot.Bot(fake.token, base_url=fake.url) as bot:
            await bot.send_message(CHAT, "1")
            await bot.send_photo(CHAT, "", "https://example.org/2.png")
            with pytest.raises(NetworkError, match=r"Quota exceeded \(429\)"):
                await bot.send_message(CHAT, "3")
        raw = api(fake, "sendMessage", chat_id=CHAT, text="4")
        assert raw.status_code == 429
        assert raw.json() == {"ok": False, "error_code": 429, "description": "Quota exceeded"}
        assert len(fake.sent(CHAT)) == 2
        assert api(fake, "sendChatAction", chat_id=CHAT, action="typing").json()["ok"]


# ------------------------------------------------------------------ webhook


class Receiver:
    """A tiny HTTP server on plain asyncio that answers with scripted status codes."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses, self.received = list(statuses), list[dict[str, Any]]()
        self.server: asyncio.Server | None = None
        self.url = ""

    async def __aenter__(self) -> Receiver:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/zalo-hook"
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
        self.received.append({"line": lines[0], "headers": headers, "body": json.loads(body)})
        writer.write(
            f"HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode()
        )
        await writer.drain()
        writer.close()


def sync_bot(fake: FakeZalo) -> zalo_bot.Bot:
    """python-zalo-bot's webhook methods are synchronous (asyncio.run inside): call in a thread."""
    return zalo_bot.Bot(fake.token, base_url=fake.url)


async def test_webhook_retries_until_2xx_with_secret(bot: zalo_bot.Bot, fake: FakeZalo) -> None:
    sync = sync_bot(fake)
    async with Receiver([500, 500, 200]) as receiver:
        assert await asyncio.to_thread(sync.set_webhook, receiver.url, SECRET) is True
        info = await asyncio.to_thread(sync.get_webhook_info)
        assert info.url == receiver.url and info.updated_at == pytest.approx(
            time.time() * 1000, abs=5000
        )
        first = fake.send_text(CHAT, "xin chào")
        second = fake.send_text(CHAT, "tin sau")
        await fake.wait_for_async(lambda: fake.webhook()["pending"] == 0, timeout=5)
        ids = [r["body"]["message"]["message_id"] for r in receiver.received]
        assert ids == [first, first, first, second]  # the second waited behind the first
        assert all(r["line"].startswith("POST /zalo-hook ") for r in receiver.received)
        assert {r["headers"]["x-bot-api-secret-token"] for r in receiver.received} == {SECRET}
        assert receiver.received[0]["headers"]["content-type"] == "application/json"
        assert receiver.received[0]["body"]["event_name"] == "message.text.received"
        state = fake.webhook()
        assert [d["status"] for d in state["deliveries"]] == [500, 500, 200, 200]
        assert state["url"] == receiver.url and state["secret"] == SECRET
        # polling and the webhook exclude each other: the library only sees None
        assert await bot.get_update(timeout=1) is None
        raw = api(fake, "getUpdates", timeout="1")
        assert raw.status_code == 200 and raw.json()["ok"] is False
        assert raw.json()["error_code"] == 400 and "deleteWebhook" in raw.json()["description"]
        fake.redeliver(first)  # a duplicate delivery
        await fake.wait_for_async(lambda: len(receiver.received) == 5, timeout=5)
        assert receiver.received[4]["body"] == receiver.received[2]["body"]
        assert await asyncio.to_thread(sync.delete_webhook) is True
        assert fake.webhook()["url"] == ""
        third = fake.send_text(CHAT, "lúc không có webhook")
        update = await bot.get_update(timeout=1)
        assert update is not None and update.message is not None
        assert update.message.message_id == third and len(receiver.received) == 5


async def test_webhook_envelope_shape(fake: FakeZalo) -> None:
    fake.set_webhook_shape("envelope")
    async with Receiver([]) as receiver:
        assert await asyncio.to_thread(sync_bot(fake).set_webhook, receiver.url, SECRET)
        message_id = fake.send_image(CHAT, "https://photo.zdn.vn/a.jpg")
        await fake.wait_for_async(lambda: receiver.received, timeout=5)
    body = receiver.received[0]["body"]
    assert body["ok"] is True and body["result"]["message"]["message_id"] == message_id
    assert body["result"]["event_name"] == "message.image.received"
    assert fake.webhook()["shape"] == "envelope"
    with pytest.raises(ValueError, match="shape"):
        fake.set_webhook_shape("wrapped")


async def test_webhook_connection_errors_are_retried(fake: FakeZalo) -> None:
    async with Receiver([]) as receiver:
        url = receiver.url
    assert api(fake, "setWebhook", url=url, secret_token=SECRET).json()["ok"]
    fake.send_text(CHAT, "hello")  # nobody listens there any more
    await fake.wait_for_async(lambda: len(fake.webhook()["deliveries"]) >= 2, timeout=5)
    first = fake.webhook()["deliveries"][0]
    assert first["status"] is None and "Connection failed" in first["error"]
    assert fake.webhook()["pending"] == 1


def test_set_webhook_validation(fake: FakeZalo) -> None:
    short = api(fake, "setWebhook", url="https://bot.example.vn/hook", secret_token="1234567")
    assert short.status_code == 200
    assert short.json()["error_code"] == 400 and "8-256" in short.json()["description"]
    assert sync_bot(fake).set_webhook("https://bot.example.vn/hook", "x" * 257) is False
    plain = api(fake, "setWebhook", url="http://bot.example.vn/hook", secret_token=SECRET)
    assert plain.json()["ok"] is False and "HTTPS" in plain.json()["description"]
    answer = api(fake, "setWebhook", url="https://bot.example.vn/hook", secret_token="s" * 256)
    assert answer.json()["result"]["url"] == "https://bot.example.vn/hook"
    assert fake.webhook()["url"] == "https://bot.example.vn/hook"
    with pytest.raises(ValueError, match="unknown"):
        fake.redeliver("unknown")


# ------------------------------------------------------------------ control side and helpers


def test_control_endpoints_over_http(fake: FakeZalo) -> None:
    control = httpx.Client(base_url=f"{fake.url}/_control")
    sent = control.post("/send_text", json={"chat_id": CHAT, "text": "/start"}).json()
    update = api(fake, "getUpdates", timeout="1").json()["result"]
    assert update["message"]["message_id"] == sent["result"]
    control.post("/send_image", json={"chat_id": CHAT, "photo_url": "https://a.vn/p.jpg"})
    control.post("/send_sticker", json={"chat_id": CHAT})
    control.post("/send_unsupported", json={"chat_id": CHAT})
    raw = {"event_name": "message.text.received", "message": {"message_id": "m-1", "text": "x"}}
    assert control.post("/send_raw_update", json={"update": raw}).json()["result"] == "m-1"
    assert len(control.get("/pending_updates").json()["result"]) == 4
    api(fake, "sendMessage", chat_id=CHAT, text="Chào")
    assert control.get("/sent", params={"chat_id": CHAT}).json()["result"][0]["text"] == "Chào"
    control.post("/fail_next", json={"method": "getMe", "error_code": 500})
    assert httpx.get(f"{fake.api_url}/getMe").status_code == 500
    calls = control.get("/calls", params={"method": "getMe"}).json()["result"]
    assert calls[0]["status"] == 500 and calls[0]["error_code"] == 500
    control.post("/set_webhook_shape", json={"shape": "envelope"})
    assert control.get("/webhook").json()["result"]["shape"] == "envelope"
    missing = control.post("/redeliver", json={"message_id": "nope"})
    assert missing.status_code == 400 and "webhook" in missing.json()["description"]
    assert control.get("/is_polling").json()["result"] is False
    assert control.post("/reset").json()["ok"] is True
    assert fake.sent(CHAT) == [] and fake.calls() == [] and fake.pending_updates() == []
    assert fake.webhook()["shape"] == "bare"


def test_wait_for_returns_the_value_or_fails_with_a_dump(fake: FakeZalo) -> None:
    fake.send_text(CHAT, "hi")
    threading.Timer(0.05, lambda: api(fake, "sendMessage", chat_id=CHAT, text="x")).start()
    assert fake.wait_for(lambda: fake.sent(CHAT), timeout=5)[0]["text"] == "x"
    with pytest.raises(AssertionError, match=r"two replies") as caught:
        fake.wait_for(lambda: len(fake.sent(CHAT)) >= 2, timeout=0.2, what="two replies")
    assert '"text": "x"' in str(caught.value)
