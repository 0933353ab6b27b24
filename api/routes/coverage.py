"""Coverage against the plan's targets: commune-wide and per hamlet."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from api.auth import CurrentOfficial, ensure_hamlet_access
from api.coverage import hamlet_coverage, hamlet_list, overview, read_snapshot
from api.deps import ContextDep
from api.schemas import HamletCoverage, HamletList, Overview
from bot.commune import Hamlet
from storage.officials import OfficialRecord

router = APIRouter(prefix="/api/v1", tags=["coverage"])


def _may_read(official: OfficialRecord, hamlet: Hamlet) -> bool:
    try:
        ensure_hamlet_access(official, hamlet.id)
    except HTTPException:
        return False
    return True


@router.get("/overview", response_model=Overview)
def get_overview(context: ContextDep, official: CurrentOfficial) -> Overview:
    """Commune-wide coverage of every target group against the plan's targets."""
    return overview(context.commune, read_snapshot(context))


@router.get("/hamlets", response_model=HamletList)
def get_hamlets(context: ContextDep, official: CurrentOfficial) -> HamletList:
    """Coverage in every hamlet the caller may read (a hamlet token: its own hamlet only)."""
    visible = [hamlet for hamlet in context.commune.hamlets if _may_read(official, hamlet)]
    return hamlet_list(context.commune, visible, read_snapshot(context))


@router.get("/hamlets/{hamlet_id}", response_model=HamletCoverage)
def get_hamlet(hamlet_id: str, context: ContextDep, official: CurrentOfficial) -> HamletCoverage:
    """Coverage in one hamlet (403 for another hamlet's token, 404 for an unknown hamlet)."""
    # Access first: a hamlet token learns nothing about which other hamlet ids exist.
    ensure_hamlet_access(official, hamlet_id)
    hamlet = context.commune.hamlet(hamlet_id)
    if hamlet is None:
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail="unknown hamlet")
    return hamlet_coverage(context.commune, hamlet, read_snapshot(context))
