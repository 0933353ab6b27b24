"""The audit log: every officials' API request is recorded (who, what, when, status).

`AuditMiddleware` writes the entries; `router()` lets admins read them.
"""

from __future__ import annotations

import logging
from datetime import datetime
from functools import partial
from typing import Annotated

import anyio
from fastapi import APIRouter, Query
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import AdminOfficial, OfficialsDep
from api.schemas import AuditEntry, AuditLog
from storage.models import utcnow
from storage.officials import AUDIT_LIMIT_MAX, OfficialRecord, OfficialStore

logger = logging.getLogger(__name__)

API_PREFIX = "/api/v1/"
# Probes, the commune's public page and certificate checks carry no official and would
# drown the trail.
_NOT_AUDITED = ("/api/v1/health", "/api/v1/public", "/api/v1/certificates")


def is_audited(path: str) -> bool:
    """Whether a request to `path` goes into the audit log."""
    if not path.startswith(API_PREFIX):
        return False
    return not any(path == skip or path.startswith(skip + "/") for skip in _NOT_AUDITED)


class AuditMiddleware:
    """ASGI middleware recording each audited request once its response has been sent.

    The official comes from `request.state.official`, which `api.auth.current_official`
    sets (None when the request was not authenticated). The store is the app's
    `state.officials`. The entry is written in a worker thread after the last byte of the
    response has gone out, and a failure to write it is logged, never turned into an error
    for the caller.
    """

    def __init__(self, app: ASGIApp) -> None:
        """Wrap `app`."""
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, note the status it got, then record it."""
        if scope["type"] != "http" or not is_audited(scope["path"]):
            await self.app(scope, receive, send)
            return
        started = utcnow()
        # The endpoint's Request writes `state` into this same dict, so it is visible here.
        state = scope.setdefault("state", {})
        response_status = 500

        async def send_noting_status(message: Message) -> None:
            nonlocal response_status
            if message["type"] == "http.response.start":
                response_status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            official = state.get("official")
            store: OfficialStore | None = getattr(scope["app"].state, "officials", None)
            # Shielded: a caller who hangs up early is still on record.
            with anyio.CancelScope(shield=True):
                # scope["path"] never holds the query string, which can be long or sensitive.
                await _record(
                    store, official, scope["method"], scope["path"], response_status, started
                )


async def _record(
    store: OfficialStore | None,
    official: OfficialRecord | None,
    method: str,
    path: str,
    response_status: int,
    started: datetime,
) -> None:
    try:
        if store is None:
            raise RuntimeError("app.state.officials is not set")
        # In a worker thread: the database write must not hold up the event loop.
        await anyio.to_thread.run_sync(
            partial(store.record, official, method, path, response_status, at=started)
        )
    except Exception:
        # The response has been sent already; losing one entry beats failing the caller.
        logger.exception("could not write the audit entry for %s %s", method, path)


def router() -> APIRouter:
    """`GET /api/v1/audit?limit=100`: the newest audit entries, for admins only."""
    routes = APIRouter(prefix="/api/v1", tags=["audit"])

    @routes.get("/audit", response_model=AuditLog)
    def audit_log(
        _admin: AdminOfficial,
        officials: OfficialsDep,
        limit: Annotated[int, Query(ge=1, le=AUDIT_LIMIT_MAX)] = 100,
    ) -> AuditLog:
        """The newest entries first."""
        entries = [
            AuditEntry(
                at=entry.at,
                official=entry.official_name,
                role=entry.role,
                method=entry.method,
                path=entry.path,
                status=entry.status,
            )
            for entry in officials.audit(limit)
        ]
        return AuditLog(entries=entries)

    return routes
