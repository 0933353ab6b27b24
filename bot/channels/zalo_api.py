"""A small client for the Zalo Bot API (the Telegram-like bot platform), on httpx.

Every reply is checked for `ok`, whatever its HTTP status (an error can arrive with 200);
429 and 5xx are retried with backoff; `getUpdates` answering 408 means "nothing yet".
The token is part of every URL: it is never put in an exception or a log line here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

import httpx

log = logging.getLogger(__name__)

RETRYABLE = {429, 500, 502, 503, 504}


class ZaloError(Exception):
    """The Zalo Bot API said no: `error_code` and `description` from its envelope."""

    def __init__(self, error_code: int, description: str) -> None:
        super().__init__(f"Zalo Bot API error {error_code}: {description}")
        self.error_code = error_code
        self.description = description


class ZaloClient:
    """Calls `{base}/bot{token}/{method}` with JSON and unwraps the `ok`/`result` envelope."""

    def __init__(
        self,
        token: str,
        base: str,
        *,
        retries: int = 3,
        first_backoff: float = 0.5,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self._url = f"{base.rstrip('/')}/bot{token}"
        self._retries = retries
        self._first_backoff = first_backoff
        self._client = client or httpx.AsyncClient(timeout=httpx.Timeout(10.0, read=45.0))

    async def close(self) -> None:
        """Release connections."""
        await self._client.aclose()

    async def call(
        self, method: str, params: Mapping[str, Any] | None = None, *, timeout: float | None = None
    ) -> Any:
        """Call a method; return its `result`, or raise ZaloError after retries run out."""
        attempt = 0
        while True:
            try:
                return await self._call_once(method, params or {}, timeout)
            except ZaloError as exc:
                if exc.error_code not in RETRYABLE or attempt >= self._retries:
                    raise
                pause = self._first_backoff * 2**attempt
                log.warning("zalo: %s failed (%s); retry in %.1fs", method, exc.error_code, pause)
            except httpx.TransportError as exc:
                if attempt >= self._retries:
                    raise ZaloError(0, f"network error: {type(exc).__name__}") from None
                pause = self._first_backoff * 2**attempt
                log.warning("zalo: %s network error; retry in %.1fs", method, pause)
            attempt += 1
            await asyncio.sleep(pause)

    async def _call_once(
        self, method: str, params: Mapping[str, Any], timeout: float | None
    ) -> Any:
        request_timeout = httpx.Timeout(10.0, read=timeout + 10.0) if timeout else None
        kwargs: dict[str, Any] = {"json": dict(params)}
        if request_timeout is not None:
            kwargs["timeout"] = request_timeout
        response = await self._client.post(f"{self._url}/{method}", **kwargs)
        try:
            body = response.json()
        except ValueError:
            raise ZaloError(response.status_code, "reply is not JSON") from None
        if not isinstance(body, dict):
            raise ZaloError(response.status_code, "reply is not an object")
        if body.get("ok") is True:
            return body.get("result")
        code = body.get("error_code")
        error_code = code if isinstance(code, int) else response.status_code
        raise ZaloError(error_code, str(body.get("description") or "unknown error"))

    async def get_me(self) -> dict[str, Any]:
        """Who the bot is; also proves the token works."""
        result = await self.call("getMe")
        return result if isinstance(result, dict) else {}

    async def get_update(self, timeout: int = 30) -> dict[str, Any] | None:
        """Long-poll for ONE update; None when nothing arrived (Zalo answers 408)."""
        try:
            result = await self.call("getUpdates", {"timeout": str(timeout)}, timeout=timeout)
        except ZaloError as exc:
            if exc.error_code == 408:
                return None
            raise
        if isinstance(result, list):  # be lenient if the platform ever returns a list
            return result[0] if result else None
        return result if isinstance(result, dict) and result else None

    async def set_webhook(self, url: str, secret_token: str) -> None:
        """Register the webhook (polling then stops working, as on the platform)."""
        await self.call("setWebhook", {"url": url, "secret_token": secret_token})

    async def delete_webhook(self) -> None:
        """Remove the webhook so that long polling works."""
        await self.call("deleteWebhook")

    async def send_message(self, chat_id: str, text: str) -> dict[str, Any]:
        """Send a text (1-2000 characters)."""
        result = await self.call("sendMessage", {"chat_id": chat_id, "text": text})
        return result if isinstance(result, dict) else {}

    async def send_photo(self, chat_id: str, photo_url: str, caption: str = "") -> None:
        """Send a picture by URL."""
        params = {"chat_id": chat_id, "photo": photo_url}
        if caption:
            params["caption"] = caption
        await self.call("sendPhoto", params)
