"""The Zalo Bot API client and poller, over real HTTP to the fake platform."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from fakes.zalo_api import FakeZalo

from bot.channels.zalo_api import ZaloClient, ZaloError
from bot.channels.zalo_polling import ZaloPoller
from storage.db import make_engine, migrate
from storage.inbox import SqlInbox


@pytest.fixture
def fake() -> Iterator[FakeZalo]:
    with FakeZalo() as server:
        yield server


@pytest.fixture
async def client(fake: FakeZalo) -> AsyncIterator[ZaloClient]:
    zalo = ZaloClient(fake.token, fake.url, first_backoff=0.01)
    try:
        yield zalo
    finally:
        await zalo.close()


async def test_an_error_inside_http_200_raises_a_typed_error(
    fake: FakeZalo, client: ZaloClient
) -> None:
    fake.send_text("chat-1", "hi")
    with pytest.raises(ZaloError) as caught:
        await client.send_message("chat-1", "x" * 2001)
    assert caught.value.error_code == 400
    assert fake.calls("sendMessage")[-1]["status"] == 200
    with pytest.raises(ZaloError) as unknown:
        await client.send_message("nobody", "hello")
    assert unknown.value.error_code == 400


async def test_429_and_5xx_are_retried_with_backoff(fake: FakeZalo, client: ZaloClient) -> None:
    fake.send_text("chat-2", "hi")
    fake.fail_next("sendMessage", count=1, error_code=429)
    fake.fail_next("sendMessage", count=1, error_code=502)
    result = await client.send_message("chat-2", "xin chào")
    assert result["message_id"]
    statuses = [c["status"] for c in fake.calls("sendMessage")]
    assert statuses[-3:] == [429, 502, 200]


async def test_retries_give_up_with_the_platform_error(fake: FakeZalo, client: ZaloClient) -> None:
    fake.send_text("chat-3", "hi")
    fake.fail_next("sendMessage", count=10, error_code=429)
    with pytest.raises(ZaloError) as caught:
        await client.send_message("chat-3", "x")
    assert caught.value.error_code == 429
    assert "Quota" in caught.value.description


async def test_a_wrong_token_is_401_and_the_token_is_not_in_the_error(fake: FakeZalo) -> None:
    secret = "wrong-token-abcdefghijkl"
    wrong = ZaloClient(secret, fake.url, first_backoff=0.01)
    try:
        with pytest.raises(ZaloError) as caught:
            await wrong.get_me()
    finally:
        await wrong.close()
    assert caught.value.error_code == 401
    assert secret not in str(caught.value)


async def test_long_poll_408_means_nothing_yet(fake: FakeZalo, client: ZaloClient) -> None:
    assert await client.get_update(timeout=1) is None
    fake.fail_next("getUpdates", error_code=408, http_status=408)
    assert await client.get_update(timeout=1) is None
    fake.send_text("chat-4", "xin chào")
    update = await client.get_update(timeout=1)
    assert update is not None and update["message"]["text"] == "xin chào"


async def test_the_poller_survives_errors_and_odd_updates(
    fake: FakeZalo, client: ZaloClient, tmp_path: Path
) -> None:
    database = make_engine(f"sqlite:///{tmp_path / 'inbox.db'}")
    migrate(database)
    inbox = SqlInbox(database)
    woken: list[bool] = []
    poller = ZaloPoller(client, inbox, lambda: woken.append(True))
    fake.fail_next("getUpdates", count=2, error_code=502)
    fake.send_raw_update({"event_name": "message.text.received", "message": {"text": "no id"}})
    fake.send_text("chat-5", "một")
    task = asyncio.create_task(poller.run())
    try:
        await fake.wait_for_async(
            lambda: inbox.counts()["pending"] == 1 and bool(woken), timeout=15
        )
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert woken
    item = inbox.claim_due()[0]
    assert item.channel == "zalo" and item.payload["message"]["text"] == "một"
