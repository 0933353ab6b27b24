"""Commune-level progress for the commune's website: no token, no small counts."""

from __future__ import annotations

from fastapi import APIRouter

from api.coverage import public_summary, read_snapshot
from api.deps import ContextDep
from api.schemas import PublicSummary

router = APIRouter(prefix="/api/v1/public", tags=["public"])


@router.get("/summary", response_model=PublicSummary)
def get_public_summary(context: ContextDep) -> PublicSummary:
    """Commune-level certified counts and rates per group, safe to publish."""
    return public_summary(context.commune, read_snapshot(context))
