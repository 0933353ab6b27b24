"""python-telegram-bot on aiohttp (bot/channels/telegram_http.py), against the fake Bot API.

The rest of the channel relies on python-telegram-bot's contract for a request class: the
Bot API answers as objects, uploads as multipart, Bot API errors as `BadRequest`, a server
that does not answer as `TimedOut`, one that cannot be reached as `NetworkError`.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
from fakes.telegram_api import FakeTelegram
from telegram import Bot
from telegram.error import BadRequest, NetworkError, TimedOut

from bot.channels import qr
from bot.channels.telegram_http import AiohttpRequest

pytestmark = pytest.mark.asyncio


async def _bot(fake_base: str, token: str, request: AiohttpRequest) -> Bot:
    bot = Bot(token, base_url=fake_base, request=request, get_updates_request=AiohttpRequest(1))
    await bot.initialize()
    return bot


async def test_messages_buttons_and_uploads_reach_the_bot_api(fake: FakeTelegram) -> None:
    fake.send_message(501, "xin chào")
    bot = await _bot(fake.base_url, fake.token, AiohttpRequest())
    try:
        me = await bot.get_me()
        assert me.username == "hocvuso_test_bot"
        sent = await bot.send_message(501, "Chào bạn 👋 — bài 1")
        assert sent.text == "Chào bạn 👋 — bài 1"
        await bot.send_photo(501, qr.png("https://t.me/x?start=ref-abc"), filename="qr.png")
    finally:
        await bot.shutdown()
    texts = [m.get("text") for m in fake.sent(501)]
    assert "Chào bạn 👋 — bài 1" in texts
    uploads = fake.uploads(501)
    assert uploads and uploads[-1]["filename"] == "qr.png"


async def test_a_bot_api_error_is_a_bad_request(fake: FakeTelegram) -> None:
    bot = await _bot(fake.base_url, fake.token, AiohttpRequest())
    try:
        with pytest.raises(BadRequest, match=r"[Cc]hat not found"):
            await bot.send_message(999_999, "không ai nhận")
    finally:
        await bot.shutdown()


@pytest.fixture
async def silent_server() -> AsyncIterator[str]:
    """A server that accepts connections and never answers."""
    connections: list[asyncio.StreamWriter] = []

    async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/bot"
    finally:
        for writer in connections:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_a_server_that_does_not_answer_times_out(silent_server: str) -> None:
    request = AiohttpRequest(read_timeout=0.3)
    await request.initialize()
    try:
        with pytest.raises(TimedOut):
            await request.post(f"{silent_server}123:abc/getMe", read_timeout=0.3)
    finally:
        await request.shutdown()


async def test_a_server_that_cannot_be_reached_is_a_network_error() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    request = AiohttpRequest()
    await request.initialize()
    try:
        with pytest.raises(NetworkError) as caught:
            await request.post(f"http://127.0.0.1:{port}/bot123:abc/getMe")
        assert not isinstance(caught.value, TimedOut)
    finally:
        await request.shutdown()


async def test_it_can_be_shut_down_and_opened_again(fake: FakeTelegram) -> None:
    request = AiohttpRequest()
    bot = await _bot(fake.base_url, fake.token, request)
    await bot.shutdown()
    await bot.initialize()
    try:
        assert (await bot.get_me()).is_bot
    finally:
        await bot.shutdown()
