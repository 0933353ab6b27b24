"""The officials' dashboard: a static page at `/dashboard` that reads the officials' API.

The page holds no data of its own: it calls `/api/v1/...` with the official's bearer token,
which it keeps in the browser's sessionStorage only. Wire it with
`app.include_router(dashboard.router())` and `dashboard.mount_dashboard(app)`.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static"
STATIC_PATH = "/dashboard/static"

# Everything the page loads or calls is on this origin; nothing inline, no framing.
_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}


def router() -> APIRouter:
    """`GET /dashboard`, the page itself (not part of the API schema)."""
    routes = APIRouter(tags=["dashboard"])

    @routes.get("/dashboard", include_in_schema=False)
    async def page() -> FileResponse:
        """Serve the dashboard page."""
        return FileResponse(
            STATIC_DIR / "dashboard.html",
            media_type="text/html; charset=utf-8",
            headers=_HEADERS,
        )

    return routes


def mount_dashboard(app: FastAPI) -> None:
    """Serve the page's CSS and JS under `/dashboard/static`."""
    app.mount(STATIC_PATH, StaticFiles(directory=STATIC_DIR), name="dashboard-static")
