"""The officials' API routes, one router per resource, all under `/api/v1`.

The composition root includes every router of `routers()` and sets `app.state.api` to an
`api.deps.ApiContext` (and `app.state.officials` for `api.auth`).
"""

from __future__ import annotations

from fastapi import APIRouter

from api.routes import coverage, lessons, public, report


def routers() -> tuple[APIRouter, ...]:
    """Every router of the statistics API: coverage, lessons, quarterly report, public."""
    return (coverage.router, lessons.router, report.router, public.router)
