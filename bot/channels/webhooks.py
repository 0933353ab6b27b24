"""Webhook endpoints: check the secret, store the raw update in the inbox, answer 200.

The engine is never touched here: `receive` stores the update and queues it for the inbox
worker. A forged request gets 403; a malformed one 400; a body
over 64 KB 413. A redelivered update is recognised by its platform id and stored once.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, HTTPException, Request

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024

KeyOf = Callable[[dict[str, Any]], tuple[str, dict[str, Any]]]
# Stores a new update durably (and queues it for processing); False if it was there already.
Receive = Callable[[str, str, dict[str, Any]], Awaitable[bool]]


def secret_matches(given: str | None, expected: str) -> bool:
    """Constant-time comparison, so the secret cannot be guessed byte by byte."""
    if given is None:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def webhook_router(
    *,
    path: str,
    channel: str,
    header: str,
    secret: str,
    key_of: KeyOf,
    receive: Receive,
) -> APIRouter:
    """A POST route that files a platform's updates in the inbox."""
    routes = APIRouter(tags=["webhooks"])

    @routes.post(path, include_in_schema=False)
    async def accept(request: Request) -> dict[str, bool]:
        """Accept one update from the platform."""
        if not secret_matches(request.headers.get(header), secret):
            raise HTTPException(status_code=403, detail="forbidden")
        body = await _read_limited(request)
        try:
            raw = json.loads(body, parse_constant=_not_json)
        except (ValueError, RecursionError):
            # ValueError covers bad JSON, bad UTF-8, NaN and ints past Python's digit limit;
            # RecursionError, brackets nested deeper than the parser's stack.
            raise HTTPException(status_code=400, detail="body is not JSON") from None
        if not isinstance(raw, dict):
            raise HTTPException(status_code=400, detail="update must be a JSON object")
        try:
            key, update = key_of(raw)
        except (KeyError, TypeError, ValueError):
            raise HTTPException(status_code=400, detail="not an update") from None
        if not await receive(channel, key, update):
            log.info("%s: update %s delivered again; already in the inbox", channel, key)
        return {"ok": True}

    return routes


def _not_json(constant: str) -> Any:
    """Refuse NaN and Infinity: Python's parser accepts them, JSON (and the platforms) do not."""
    raise ValueError(f"{constant} is not JSON")


async def _read_limited(request: Request) -> bytes:
    """Read the body, refusing anything over the limit without reading it all."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
        raise HTTPException(status_code=413, detail="update too large")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise HTTPException(status_code=413, detail="update too large")
    return bytes(body)


def telegram_key(raw: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Telegram sends one update per request; its `update_id` is the key."""
    update_id = raw["update_id"]
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        raise TypeError("update_id must be an integer")
    return str(update_id), raw
