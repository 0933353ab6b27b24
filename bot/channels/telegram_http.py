"""python-telegram-bot's HTTP requests on aiohttp, for less CPU per Bot API call.

python-telegram-bot sends through httpx by default. Under load (hundreds of learners at
once, three Bot API calls per button press) httpx's connection pool costs about 1-2 ms of
CPU per call in scanning and checking its connections, more than the engine's work for the
step; aiohttp does the same call for about a fifth of that (bench/conversation.py). This
is a `BaseRequest`, the extension point python-telegram-bot documents for another HTTP
library: same form-encoded parameters, same multipart uploads, same timeouts and the same
errors (`TimedOut`, `NetworkError`) for the rest of the library to handle.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

# python-telegram-bot's own defaults (HTTPXRequest), and its longer write for uploads.
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 5.0
WRITE_TIMEOUT = 5.0
POOL_TIMEOUT = 1.0
MEDIA_WRITE_TIMEOUT = 20.0


def _seconds(value: Any, default: float | None) -> float | None:
    """A timeout as python-telegram-bot passes it: a number, None (no limit), or its default."""
    if isinstance(value, (int, float)) or value is None:
        return None if value is None else float(value)
    return default  # BaseRequest.DEFAULT_NONE: use ours


class AiohttpRequest(BaseRequest):
    """Bot API requests over one aiohttp session with a bounded connection pool."""

    def __init__(
        self,
        connection_pool_size: int = 32,
        *,
        read_timeout: float | None = READ_TIMEOUT,
        connect_timeout: float | None = CONNECT_TIMEOUT,
        pool_timeout: float | None = POOL_TIMEOUT,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout, which python-telegram-bot adds to long-poll timeouts."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Open the session (again, after a shutdown)."""
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(
                connector=connector, headers={"User-Agent": self.USER_AGENT}
            )

    async def shutdown(self) -> None:
        """Close the session and its connections."""
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Send one request; return the status code and the body."""
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        files = request_data.multipart_data if request_data is not None else None
        fields = request_data.json_parameters if request_data is not None else None
        body: Any = fields
        if files:
            body = aiohttp.FormData(fields or {})
            for name, (filename, content, mimetype) in files.items():
                data = content if isinstance(content, bytes) else content.read()
                body.add_field(name, data, filename=filename, content_type=mimetype)
        connect = _seconds(connect_timeout, self._connect_timeout)
        pool = _seconds(pool_timeout, self._pool_timeout)
        write = _seconds(write_timeout, MEDIA_WRITE_TIMEOUT if files else WRITE_TIMEOUT)
        read = _seconds(read_timeout, self._read_timeout)
        # aiohttp's `connect` covers waiting for a pooled connection and opening a new one;
        # reading a response and sending the body are bounded by `sock_read`.
        timeout = aiohttp.ClientTimeout(
            total=None,
            connect=None if connect is None or pool is None else connect + pool,
            sock_read=None if read is None or write is None else max(read, write),
        )
        try:
            async with self._session.request(method, url, data=body, timeout=timeout) as response:
                return response.status, await response.read()
        except TimeoutError as error:
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{type(error).__name__}: {error}") from error
