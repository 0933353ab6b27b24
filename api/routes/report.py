"""The quarterly report as CSV and XLSX downloads, for admin and viewer tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response, status

from api.auth import ReportReader
from api.coverage import read_snapshot
from api.deps import VIETNAM, ApiContext, ContextDep
from api.report import (
    QUARTER_PATTERN,
    Quarter,
    filename,
    parse_quarter,
    quarter_of,
    quarterly_report,
    report_as_of,
    to_csv,
    to_xlsx,
)

router = APIRouter(prefix="/api/v1/report", tags=["report"])

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

QuarterParam = Annotated[
    str | None,
    Query(
        pattern=QUARTER_PATTERN,
        description="the quarter, e.g. 2026Q4; default the current one",
        examples=["2026Q4"],
    ),
]


def _quarter(context: ApiContext, text: str | None) -> Quarter:
    if text is None:
        return quarter_of(context.now().astimezone(VIETNAM).date())
    try:
        return parse_quarter(text)
    except ValueError as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(error)) from None


def _download(body: bytes, media_type: str, name: str) -> Response:
    return Response(
        content=body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _report_bytes(context: ApiContext, quarter: Quarter, as_xlsx: bool) -> bytes:
    snapshot = read_snapshot(context, report_as_of(quarter, context.now()))
    report = quarterly_report(context.commune, quarter, snapshot)
    return to_xlsx(report) if as_xlsx else to_csv(report)


@router.get(
    "/quarterly.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "the report as CSV"}},
)
def get_quarterly_csv(
    context: ContextDep, official: ReportReader, quarter: QuarterParam = None
) -> Response:
    """The quarterly report as CSV (UTF-8 with BOM), figures as of the quarter's end."""
    chosen = _quarter(context, quarter)
    body = _report_bytes(context, chosen, as_xlsx=False)
    return _download(body, CSV_TYPE, filename(chosen, "csv"))


@router.get(
    "/quarterly.xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX_TYPE: {}}, "description": "the report as XLSX"}},
)
def get_quarterly_xlsx(
    context: ContextDep, official: ReportReader, quarter: QuarterParam = None
) -> Response:
    """The quarterly report as an Excel workbook, figures as of the quarter's end."""
    chosen = _quarter(context, quarter)
    body = _report_bytes(context, chosen, as_xlsx=True)
    return _download(body, XLSX_TYPE, filename(chosen, "xlsx"))
