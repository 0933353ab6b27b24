"""The web chat: a page at `/` and its JSON endpoint `POST /chat/messages`.

Any client (the page, a test, a kiosk script) can hold a whole conversation through the
endpoint; the learner is identified by an opaque random cookie, nothing else.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Cookie, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field, model_validator

from bot.channels import qr
from bot.engine import Engine, Incoming, Reply
from bot.engine.messages import qr_text

STATIC_DIR = Path(__file__).parent / "static"
COOKIE = "hocvuso_chat"
_COOKIE_AGE = 60 * 60 * 24 * 365
CHANNEL = "web"


class ChatMessage(BaseModel):
    """What the learner sent: typed text or a pressed button."""

    text: Annotated[str | None, Field(max_length=4000)] = None
    button: Annotated[str | None, Field(max_length=64)] = None

    @model_validator(mode="after")
    def _one_of(self) -> ChatMessage:
        if (self.text is None) == (self.button is None):
            raise ValueError("send either text or button")
        return self


class ButtonOut(BaseModel):
    """A choice the page shows as a big button."""

    id: str
    label: str


class ReplyOut(BaseModel):
    """One message from the bot."""

    text: str
    buttons: list[ButtonOut] = []
    image: str | None = None


class ChatReplies(BaseModel):
    """The bot's answer to one message."""

    replies: list[ReplyOut]


def _out(reply: Reply) -> ReplyOut:
    buttons = [ButtonOut(id=b.id, label=b.label) for b in reply.buttons]
    encoded = qr_text(reply.image)
    # A generated QR code travels inline: the page needs no extra request and no CDN.
    image = qr.data_uri(encoded) if encoded is not None else reply.image
    return ReplyOut(text=reply.text, buttons=buttons, image=image)


def _learner_cookie(value: str | None) -> str:
    """The learner's cookie if well formed, else a fresh random one (nothing is stored)."""
    if value is not None and 16 <= len(value) <= 64 and value.isalnum():
        return value
    return secrets.token_hex(16)


def router(engine: Engine) -> APIRouter:
    """The web chat's routes, bound to one engine."""
    routes = APIRouter(tags=["web chat"])

    @routes.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        """Serve the chat page."""
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html; charset=utf-8")

    @routes.post("/chat/messages", response_model=ChatReplies)
    async def post_message(
        message: ChatMessage,
        request: Request,
        response: Response,
        chat: Annotated[str | None, Cookie(alias=COOKIE)] = None,
    ) -> ChatReplies:
        """Hand one message to the engine and return its replies."""
        learner = _learner_cookie(chat)
        response.set_cookie(
            COOKIE,
            learner,
            max_age=_COOKIE_AGE,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        incoming = Incoming(CHANNEL, learner, learner, text=message.text, button=message.button)
        replies = await run_in_threadpool(engine.handle, incoming)
        return ChatReplies(replies=[_out(r) for r in replies])

    return routes
