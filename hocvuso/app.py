"""The one web application: web chat, officials' API and dashboard, platform webhooks."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api import audit, dashboard, health
from api.auth import RateLimiter
from api.deps import ApiContext
from api.routes import routers
from bot.channels import web
from bot.channels.webhooks import telegram_key, webhook_router
from bot.channels.zalo import message_key
from hocvuso.lifecycle import TELEGRAM_WEBHOOK_PATH, ZALO_WEBHOOK_PATH, lifespan
from hocvuso.services import Services
from storage.officials import OfficialStore

API_REQUESTS_PER_MINUTE = 120
TELEGRAM_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ZALO_SECRET_HEADER = "X-Bot-Api-Secret-Token"


def create_app(services: Services) -> FastAPI:
    """Assemble the FastAPI app around already-built services."""
    app = FastAPI(
        title="hocvuso",
        summary="Bình dân học vụ số: the commune's digital-literacy assistant and its API",
        version="0.1.0",
        docs_url="/api/docs",
        redoc_url=None,
        lifespan=lifespan(services),
    )
    public_url = services.settings.public_url
    app.state.api = ApiContext(
        services.database,
        services.content,
        services.commune,
        public_url=str(public_url) if public_url is not None else None,
    )
    app.state.officials = OfficialStore(services.database)
    app.state.rate_limit = RateLimiter(API_REQUESTS_PER_MINUTE, 60)
    app.add_middleware(audit.AuditMiddleware)

    app.mount("/static", StaticFiles(directory=web.STATIC_DIR), name="static")
    app.include_router(web.router(services.engine))
    app.include_router(health.router(len(services.content.lessons)))
    for router in routers():
        app.include_router(router)
    app.include_router(audit.router())
    app.include_router(dashboard.router())
    dashboard.mount_dashboard(app)
    _webhooks(app, services)
    return app


def _webhooks(app: FastAPI, services: Services) -> None:
    """Platform webhook routes, only when a platform and a webhook secret are configured."""
    secret = services.settings.webhook_secret
    if secret is None:
        return
    platforms = (
        (
            "telegram",
            services.telegram,
            TELEGRAM_WEBHOOK_PATH,
            TELEGRAM_SECRET_HEADER,
            telegram_key,
        ),
        ("zalo", services.zalo, ZALO_WEBHOOK_PATH, ZALO_SECRET_HEADER, message_key),
    )
    for channel, configured, path, header, key_of in platforms:
        if configured is None:
            continue
        app.include_router(
            webhook_router(
                path=path,
                channel=channel,
                header=header,
                secret=secret.get_secret_value(),
                key_of=key_of,
                receive=services.worker.receive,
            )
        )
