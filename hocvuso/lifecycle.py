"""Starting and stopping the background work of `hocvuso serve` with the web app.

The inbox worker runs unless `HOCVUSO_INBOX_WORKER` is off. Telegram, when a token is set:
with a public URL it registers the webhook; without one it long-polls. Trouble reaching the
platform never stops the web chat: the supervisor retries with backoff, and a refused token
is said plainly, once. With Telegram or Zalo configured, the weekly-reminder loop runs too
(`bot.channels.reminders`).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from fastapi import FastAPI
from telegram.error import InvalidToken, NetworkError, TelegramError

from bot.channels import telegram as telegram_channel
from bot.channels import zalo as zalo_channel
from bot.channels.reminders import Push, ReminderSender, telegram_push, zalo_push
from bot.channels.telegram import ALLOWED_UPDATES, TelegramChannel
from bot.channels.telegram_polling import TelegramPoller
from bot.channels.zalo import ZaloChannel
from bot.channels.zalo_api import ZaloError
from bot.channels.zalo_polling import ZaloPoller, ZaloTokenRefused
from hocvuso.services import Services
from storage.reminders import SqlReminders

log = logging.getLogger(__name__)

TELEGRAM_WEBHOOK_PATH = "/webhooks/telegram"
ZALO_WEBHOOK_PATH = "/webhooks/zalo"
MAX_BACKOFF = 60.0


def lifespan(
    services: Services,
) -> Callable[[FastAPI], contextlib.AbstractAsyncContextManager[None]]:
    """The FastAPI lifespan that runs the worker and the configured platforms."""

    @contextlib.asynccontextmanager
    async def run(app: FastAPI) -> AsyncIterator[None]:
        settle_memory()
        tasks: list[asyncio.Task[Any]] = []
        if services.settings.inbox_worker:
            tasks.append(asyncio.create_task(services.worker.run(), name="inbox-worker"))
        else:
            log.warning("inbox worker off (HOCVUSO_INBOX_WORKER): updates are stored, not run")
        if services.telegram is not None:
            tasks.append(
                asyncio.create_task(_supervise_telegram(services, services.telegram), name="tg")
            )
        if services.zalo is not None:
            tasks.append(asyncio.create_task(_supervise_zalo(services, services.zalo), name="zalo"))
        reminders = _reminder_sender(services)
        if reminders is not None:
            tasks.append(asyncio.create_task(reminders.run(), name="reminders"))
        try:
            yield
        finally:
            if reminders is not None:
                reminders.stop()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if services.telegram is not None:
                with contextlib.suppress(Exception):
                    await services.telegram.stop()
            if services.zalo is not None:
                with contextlib.suppress(Exception):
                    await services.zalo.client.close()

    return run


def settle_memory() -> None:
    """Exempt what start-up built from the garbage collector's full passes.

    The content, the assistant's index and model and the libraries live as long as the
    process; left in the collector's oldest generation, every full pass walks them again
    (about 60 ms on the sample content), a pause every learner waiting at that moment sees.
    """
    gc.collect()
    gc.freeze()


def _reminder_sender(services: Services) -> ReminderSender | None:
    """The weekly-reminder loop, sending on the platforms that are configured (or None)."""
    pushes: dict[str, Push] = {}
    if services.telegram is not None:
        pushes[telegram_channel.CHANNEL] = telegram_push(services.telegram.bot)
    if services.zalo is not None:
        pushes[zalo_channel.CHANNEL] = zalo_push(services.zalo.client)
    if not pushes:
        return None
    return ReminderSender(
        SqlReminders(services.database),
        pushes,
        interval=services.settings.reminder_interval_seconds,
    )


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

    await _with_backoff("telegram", "HOCVUSO_TELEGRAM_TOKEN", connect_and_run)


async def _supervise_zalo(services: Services, zalo: ZaloChannel) -> None:
    """Check the token, then register the webhook or long-poll, retrying network trouble."""
    settings = services.settings

    async def connect_and_run() -> None:
        try:
            await zalo.client.get_me()
        except ZaloError as exc:
            if exc.error_code == 401:
                raise ZaloTokenRefused from None
            raise
        if settings.public_url is not None and settings.webhook_secret is not None:
            url = str(settings.public_url).rstrip("/") + ZALO_WEBHOOK_PATH
            await zalo.client.set_webhook(url, settings.webhook_secret.get_secret_value())
            log.info("zalo: webhook registered at %s", url)
            return
        await zalo.client.delete_webhook()
        log.info("zalo: long polling")
        await ZaloPoller(zalo.client, services.inbox, services.worker.wake).run()

    await _with_backoff("zalo", "HOCVUSO_ZALO_TOKEN", connect_and_run)


async def _with_backoff(name: str, variable: str, job: Callable[[], Awaitable[Any]]) -> None:
    """Run `job`, retrying network failures with growing pauses; a refused token ends it."""
    failures = 0
    while True:
        try:
            await job()
            return
        except asyncio.CancelledError:
            raise
        except (InvalidToken, ZaloTokenRefused):
            log.error(
                "%s: the platform refused the bot token; this channel is off "
                "(check %s). The web chat keeps running.",
                name,
                variable,
            )
            return
        except (NetworkError, TelegramError, ZaloError, OSError) as exc:
            failures += 1
            pause = min(2.0 ** (failures - 1), MAX_BACKOFF)
            log.warning("%s: cannot reach the platform (%s); retrying in %.0fs", name, exc, pause)
            await asyncio.sleep(pause)
