"""Starting and stopping the background work of `hocvuso serve` with the web app.

The inbox worker always runs. Telegram, when a token is set: with a public URL it registers
the webhook; without one it long-polls. Trouble reaching the platform never stops the web
chat: the supervisor retries with backoff, and a refused token is said plainly, once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from fastapi import FastAPI
from telegram.error import InvalidToken, NetworkError, TelegramError

from bot.channels.telegram import ALLOWED_UPDATES, TelegramChannel
from bot.channels.telegram_polling import TelegramPoller
from hocvuso.services import Services

log = logging.getLogger(__name__)

TELEGRAM_WEBHOOK_PATH = "/webhooks/telegram"
MAX_BACKOFF = 60.0


def lifespan(
    services: Services,
) -> Callable[[FastAPI], contextlib.AbstractAsyncContextManager[None]]:
    """The FastAPI lifespan that runs the worker and the configured platforms."""

    @contextlib.asynccontextmanager
    async def run(app: FastAPI) -> AsyncIterator[None]:
        tasks = [asyncio.create_task(services.worker.run(), name="inbox-worker")]
        if services.telegram is not None:
            tasks.append(
                asyncio.create_task(_supervise_telegram(services, services.telegram), name="tg")
            )
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if services.telegram is not None:
                with contextlib.suppress(Exception):
                    await services.telegram.stop()

    return run


async def _supervise_telegram(services: Services, telegram: TelegramChannel) -> None:
    """Connect to Telegram, then register the webhook or poll, retrying network trouble."""
    settings = services.settings

    async def connect_and_run() -> None:
        await telegram.start()
        if settings.public_url is not None and settings.webhook_secret is not None:
            url = str(settings.public_url).rstrip("/") + TELEGRAM_WEBHOOK_PATH
            await telegram.bot.set_webhook(
                url=url,
                secret_token=settings.webhook_secret.get_secret_value(),
                allowed_updates=ALLOWED_UPDATES,
            )
            log.info("telegram: webhook registered at %s", url)
            return
        log.info("telegram: long polling")
        await TelegramPoller(telegram.bot, services.inbox, services.worker.wake).run()

    await _with_backoff("telegram", connect_and_run)


async def _with_backoff(name: str, job: Callable[[], Awaitable[Any]]) -> None:
    """Run `job`, retrying network failures with growing pauses; a refused token ends it."""
    failures = 0
    while True:
        try:
            await job()
            return
        except asyncio.CancelledError:
            raise
        except InvalidToken:
            log.error(
                "%s: the platform refused the bot token; this channel is off "
                "(check HOCVUSO_TELEGRAM_TOKEN). The web chat keeps running.",
                name,
            )
            return
        except (NetworkError, TelegramError, OSError) as exc:
            failures += 1
            pause = min(2.0 ** (failures - 1), MAX_BACKOFF)
            log.warning("%s: cannot reach the platform (%s); retrying in %.0fs", name, exc, pause)
            await asyncio.sleep(pause)
