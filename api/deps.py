"""What every officials' route needs, as FastAPI dependencies (the full-stack template's way)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends, Request

from bot.commune import Commune
from bot.content import Content

# Residents live in Vietnam (UTC+7, no daylight saving): weeks and "today" are local.
VIETNAM = dt.timezone(dt.timedelta(hours=7), "ICT")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class ApiContext:
    """The database, content and commune file the officials' API reads."""

    database: sa.Engine
    content: Content
    commune: Commune
    now: Callable[[], dt.datetime] = _now
    # HOCVUSO_PUBLIC_URL: where certificates' QR codes point (else the request's own host).
    public_url: str | None = None

    def today(self) -> dt.date:
        """Today's date in Vietnam."""
        return self.now().astimezone(VIETNAM).date()


def get_context(request: Request) -> ApiContext:
    """The context the composition root put on the app."""
    context: ApiContext = request.app.state.api
    return context


ContextDep = Annotated[ApiContext, Depends(get_context)]
