"""Zalo: the same lessons with numbered choices, because Zalo bots have no buttons.

Updates reach `dispatch` from the durable inbox (webhook or long polling). Choices are
rendered as numbered lines ("Trả lời 1, 2 hoặc 3"); the learner answers by number or by
words, which the engine already understands. Pictures, stickers and other events get a
friendly note in words.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import Any

from bot.channels.split import split_text
from bot.channels.zalo_api import ZaloClient
from bot.engine import Engine, Incoming, Reply, texts
from bot.engine.messages import qr_text

log = logging.getLogger(__name__)

CHANNEL = "zalo"
TEXT_LIMIT = 2000
TEXT_EVENT = "message.text.received"
# Zalo's message ids are short hex strings; anything much longer is not one of them.
MAX_KEY = 256
MEDIA_EVENTS = {
    "message.image.received",
    "message.sticker.received",
    "message.unsupported.received",
}


def unwrap(raw: dict[str, Any]) -> dict[str, Any]:
    """The update itself, whether it came bare or inside `{"ok": true, "result": ...}`."""
    if "result" in raw and isinstance(raw["result"], dict):
        return raw["result"]
    return raw


def message_key(raw: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Zalo has no update id: a message is recognised by its `message_id`."""
    update = unwrap(raw)
    message = update["message"]
    key = message["message_id"]
    if not isinstance(key, (str, int)) or isinstance(key, bool) or not str(key):
        raise ValueError("message_id missing")
    if not _storable_key(str(key)):
        # A lone surrogate or NUL (valid in JSON) cannot be stored as a key: not Zalo's.
        raise ValueError("message_id is not a storable id")
    return str(key), update


def _storable_key(key: str) -> bool:
    """Whether a message id can be stored as is: short, no NUL, valid UTF-8."""
    if len(key) > MAX_KEY or "\x00" in key:
        return False
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def chat_of(update: dict[str, Any]) -> str:
    """The chat an update belongs to."""
    return str(update["message"]["chat"]["id"])


def numbered(reply: Reply) -> str:
    """A reply's text with its choices as numbered lines and how to answer."""
    if not reply.buttons:
        return reply.text
    lines = [f"{i}. {button.label}" for i, button in enumerate(reply.buttons, 1)]
    return f"{reply.text}\n\n" + "\n".join(lines) + "\n\n" + _how_to_answer(len(reply.buttons))


def _qr_in_words(reply: Reply) -> Reply:
    """Zalo sends pictures only by URL: a generated QR code goes as the text it holds."""
    encoded = qr_text(reply.image)
    if encoded is None or encoded in reply.text:
        return reply
    return dataclasses.replace(reply, text=f"{reply.text}\n{encoded}")


def _how_to_answer(count: int) -> str:
    if count == 1:
        return "Trả lời 1 nhé."
    numbers = [str(i) for i in range(1, count + 1)]
    return f"Trả lời {', '.join(numbers[:-1])} hoặc {numbers[-1]}."


class ZaloChannel:
    """Residents learning in Zalo: updates in, engine, numbered replies out."""

    def __init__(
        self, engine: Engine, client: ZaloClient, *, public_url: str | None = None
    ) -> None:
        self._engine = engine
        self.client = client
        # Zalo fetches pictures by URL: the service's own (a certificate) need its address.
        self._public_url = public_url.rstrip("/") if public_url else None

    async def dispatch(self, update: dict[str, Any]) -> None:
        """Handle one update; errors propagate so the inbox retries it."""
        event = update.get("event_name")
        message = update.get("message") or {}
        chat = message.get("chat") or {}
        chat_id = chat.get("id")
        if chat_id is None:
            log.warning("zalo: dropping an update without a chat")
            return
        sender = message.get("from") or {}
        if sender.get("is_bot"):
            return
        if event != TEXT_EVENT or not isinstance(message.get("text"), str):
            if event not in MEDIA_EVENTS:
                log.info("zalo: event %r answered with the media note", event)
            await self.send(str(chat_id), [Reply(texts.MEDIA_NOT_READ)])
            return
        incoming = Incoming(
            CHANNEL,
            str(chat_id),
            str(sender.get("id")) if sender.get("id") is not None else None,
            text=message["text"],
            update_id=str(message.get("message_id")),
        )
        response = await asyncio.to_thread(self._engine.respond, incoming)
        await self.send(str(chat_id), response.replies)

    async def send(self, chat_id: str, replies: list[Reply]) -> None:
        """All replies of one answer in as few messages as fit in 2000 characters."""
        for reply in replies:
            if reply.image and reply.image.startswith("https://"):
                await self.client.send_photo(chat_id, reply.image)
            elif reply.image and reply.image.startswith("/") and self._public_url:
                # A picture the service draws itself, at its own address.
                await self.client.send_photo(chat_id, self._public_url + reply.image)
        text = "\n\n".join(numbered(_qr_in_words(reply)) for reply in replies if reply.text)
        for piece in split_text(text, TEXT_LIMIT):
            await self.client.send_message(chat_id, piece)
