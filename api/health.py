"""A liveness probe for operators and start-up scripts."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel


class Health(BaseModel):
    """The service is up and has content loaded."""

    status: str
    lessons: int


def router(lesson_count: int) -> APIRouter:
    """`GET /api/v1/health`, which needs no token and reveals nothing about learners."""
    routes = APIRouter(prefix="/api/v1", tags=["health"])

    @routes.get("/health", response_model=Health)
    async def health() -> Health:
        """Report that the service is up."""
        return Health(status="ok", lessons=lesson_count)

    return routes
