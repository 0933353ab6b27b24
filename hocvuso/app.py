"""The one web application: web chat, officials' API, and the platform webhooks."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api import health
from bot.channels import web
from bot.channels.webhooks import telegram_key, webhook_router
from bot.channels.zalo import message_key
from hocvuso.lifecycle import TELEGRAM_WEBHOOK_PATH, ZALO_WEBHOOK_PATH, lifespan
from hocvuso.services import Services


def create_app(services: Services) -> FastAPI:
    """Assemble the FastAPI app around already-built services."""
    app = FastAPI(
        title="hocvuso",
        version="0.1.0",
        docs_url="/api/docs",
        redoc_url=None,
        lifespan=lifespan(services),
    )
    app.mount("/static", StaticFiles(directory=web.STATIC_DIR), name="static")
    app.include_router(web.router(services.engine))
    app.include_router(health.router(len(services.content.lessons)))
    secret = services.settings.webhook_secret
    if services.telegram is not None and secret is not None:
        app.include_router(
            webhook_router(
                path=TELEGRAM_WEBHOOK_PATH,
                channel="telegram",
                header="X-Telegram-Bot-Api-Secret-Token",
                secret=secret.get_secret_value(),
                key_of=telegram_key,
                inbox=services.inbox,
                wake=services.worker.wake,
            )
        )
    if services.zalo is not None and secret is not None:
        app.include_router(
            webhook_router(
                path=ZALO_WEBHOOK_PATH,
                channel="zalo",
                header="X-Bot-Api-Secret-Token",
                secret=secret.get_secret_value(),
                key_of=message_key,
                inbox=services.inbox,
                wake=services.worker.wake,
            )
        )
    return app
