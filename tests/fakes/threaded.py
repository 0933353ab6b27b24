"""What both fake platform servers share: uvicorn on its own thread and loop, waiting helpers.

A fake runs in a background thread so sync tests (and a bot running as a subprocess) can
drive it; every state change calls `_notify`, which wakes long polls, the webhook deliverer
and `wait_for`, so tests poll with a deadline instead of sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable
from typing import Any, Self, TypeVar

import uvicorn
from fastapi import FastAPI

T = TypeVar("T")


class ThreadedFake:
    """Serve a FastAPI app on 127.0.0.1 in a thread; subclasses add the platform."""

    _app: FastAPI

    def __init__(self, name: str, port: int) -> None:
        self._name = name
        self.url = ""
        self._port = port
        self._changed = threading.Condition()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._server: uvicorn.Server | None = None
        self._closing = False

    async def _deliver_forever(self) -> None:
        """Background work beside the server (webhook delivery); none by default."""

    def dump(self) -> dict[str, Any]:
        """The fake's state for failure messages: `sent`, `last_calls` and any other keys."""
        raise NotImplementedError

    def start(self) -> None:
        """Serve on 127.0.0.1 (a free port unless one was given) until `stop()`."""
        if self._thread is not None:
            raise RuntimeError(f"{self._name} is already running")
        # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say they are TCP,
        # and without it every reused connection waits ~40 ms (Nagle + delayed ACK).
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self._port))
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        config = uvicorn.Config(
            self._app, log_config=None, log_level="warning", access_log=False, lifespan="off",
            http="h11", ws="none", timeout_graceful_shutdown=1,
        )  # fmt: skip
        self._server, self._closing = uvicorn.Server(config), False
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, args=(sock,), daemon=True)
        self._thread.name = f"{self._name}-{self.url.rsplit(':', 1)[1]}"
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{self._name} did not start")
            time.sleep(0.002)

    def stop(self) -> None:
        """Stop serving and join the server thread (in-flight long polls end at once)."""
        if self._thread is None or self._server is None:
            return
        self._closing = True
        self._notify()
        self._server.should_exit = True
        self._thread.join(timeout=10)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(timeout=5)
        self._thread = self._server = self._loop = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _run(self, sock: socket.socket) -> None:
        assert self._loop is not None
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._serve(sock))
        finally:
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.close()

    async def _serve(self, sock: socket.socket) -> None:
        assert self._server is not None
        self._event = asyncio.Event()
        deliverer = asyncio.create_task(self._deliver_forever())
        try:
            await self._server.serve(sockets=[sock])
        finally:
            deliverer.cancel()
            await asyncio.gather(deliverer, return_exceptions=True)

    def _notify(self) -> None:
        """Wake long polls, the webhook deliverer and `wait_for` after any state change."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed in between
                loop.call_soon_threadsafe(self._bump)
        with self._changed:
            self._changed.notify_all()

    def _bump(self) -> None:
        old, self._event = self._event, asyncio.Event()
        if old is not None:
            old.set()

    async def _wait_event(self, event: asyncio.Event, timeout: float | None) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)

    def wait_for(self, predicate: Callable[[], T], timeout: float = 10.0, what: str = "") -> T:
        """Block until `predicate()` is truthy and return it; on timeout AssertionError + dump."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(self._timeout_message(what or repr(predicate), timeout))
            with self._changed:
                self._changed.wait(min(remaining, 0.05))

    async def wait_for_async(
        self, predicate: Callable[[], T], timeout: float = 10.0, what: str = ""
    ) -> T:
        """`wait_for` for async tests: polls without blocking the caller's event loop."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() >= deadline:
                raise AssertionError(self._timeout_message(what or repr(predicate), timeout))
            await asyncio.sleep(0.01)

    def _timeout_message(self, what: str, timeout: float) -> str:
        def line(value: Any) -> str:
            return json.dumps(value, ensure_ascii=False, default=str)

        state = self.dump()
        lines = [f"{self._name}: {what} not true after {timeout}s; state:"]
        for chat, messages in state.pop("sent").items():
            lines += [f"  sent to {chat}:"] + [f"    {line(m)}" for m in messages]
        lines += [f"  last call: {line(c)}" for c in state.pop("last_calls")]
        lines += [f"  {key}: {line(value)}" for key, value in state.items()]
        return "\n".join(lines)
