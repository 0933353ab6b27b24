"""The officials' API routes, one router per resource, all under `/api/v1`.

The composition root includes every router of `routers()` and sets `app.state.api` to an
`api.deps.ApiContext` (and `app.state.officials` for `api.auth`).
"""

from __future__ import annotations

from fastapi import APIRouter

from api.routes import certificates, coverage, lessons, public, report


def routers() -> tuple[APIRouter, ...]:
    """Every router of the API: coverage, lessons, quarterly report, public, certificates."""
    return (coverage.router, lessons.router, report.router, public.router, certificates.router)
