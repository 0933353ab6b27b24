"""The one web application: web chat, officials' API, and later the platform webhooks."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api import health
from bot.channels import web
from hocvuso.services import Services


def create_app(services: Services) -> FastAPI:
    """Assemble the FastAPI app around already-built services."""
    app = FastAPI(title="hocvuso", version="0.1.0", docs_url="/api/docs", redoc_url=None)
    app.mount("/static", StaticFiles(directory=web.STATIC_DIR), name="static")
    app.include_router(web.router(services.engine))
    app.include_router(health.router(len(services.content.lessons)))
    return app
