"""The quarterly report for the district: coverage against the plan, as CSV and as XLSX.

Figures are as of the end of the requested quarter (the last instant of its last day in
Vietnam); the current or a future quarter means "now". Rows follow the plan's targets in the
commune file's order, first for the whole commune, then one block per hamlet. The plan asks
units to report before the 15th of each quarter's middle month; that date heads the report.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass

import openpyxl  # type: ignore[import-untyped]
from openpyxl.styles import Font  # type: ignore[import-untyped]
from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]

from api.coverage import Snapshot, Tally, commune_population, tallies, target_status
from api.deps import VIETNAM
from api.schemas import Status
from bot.commune import Commune
from bot.content import TARGET_GROUPS

QUARTER_PATTERN = r"^\d{4}Q[1-4]$"
_QUARTER = re.compile(QUARTER_PATTERN)

TITLE = "Báo cáo kết quả phong trào “Bình dân học vụ số”"
COLUMNS = (
    "Nhóm đối tượng",
    "Hạn chỉ tiêu",
    "Chỉ tiêu",
    "Dân số",
    "Đã đăng ký học",
    "Đã được chứng nhận",
    "Tỷ lệ",
    "Tình trạng",
)
STATUS_LABELS: dict[Status, str] = {
    "met": "Đã đạt",
    "on_track": "Đúng tiến độ",
    "behind": "Chậm tiến độ",
    "missed": "Không đạt (đã quá hạn)",
}

Cell = str | int | float | dt.date


@dataclass(frozen=True, order=True)
class Quarter:
    """A calendar quarter, such as 2026Q4."""

    year: int
    number: int

    def __str__(self) -> str:
        """The quarter as `2026Q4`."""
        return f"{self.year}Q{self.number}"

    @property
    def first_day(self) -> dt.date:
        """The quarter's first day."""
        return dt.date(self.year, 3 * self.number - 2, 1)

    @property
    def last_day(self) -> dt.date:
        """The quarter's last day."""
        following = (
            dt.date(self.year + 1, 1, 1)
            if self.number == 4
            else dt.date(self.year, 3 * self.number + 1, 1)
        )
        return following - dt.timedelta(days=1)

    @property
    def due_date(self) -> dt.date:
        """The date the report is due: the 15th of the quarter's middle month."""
        return dt.date(self.year, 3 * self.number - 1, 15)

    @property
    def end(self) -> dt.datetime:
        """The last instant (UTC, to the microsecond) of the quarter's last day in Vietnam."""
        midnight = dt.datetime.combine(self.last_day + dt.timedelta(days=1), dt.time(), VIETNAM)
        return (midnight - dt.timedelta(microseconds=1)).astimezone(dt.UTC)


def parse_quarter(text: str) -> Quarter:
    """Parse `2026Q4`; raise ValueError for anything else."""
    if not _QUARTER.match(text):
        raise ValueError(f"a quarter looks like 2026Q4, not {text!r}")
    year, number = int(text[:4]), int(text[5])
    if year < 1:
        raise ValueError(f"no year {year}")
    return Quarter(year, number)


def quarter_of(day: dt.date) -> Quarter:
    """The quarter a date falls in."""
    return Quarter(day.year, (day.month - 1) // 3 + 1)


def report_as_of(quarter: Quarter, now: dt.datetime) -> dt.datetime:
    """The instant the report's figures describe: the quarter's end, or now if not yet over."""
    current = quarter_of(now.astimezone(VIETNAM).date())
    return now if quarter >= current else quarter.end


@dataclass(frozen=True)
class Report:
    """The quarterly report as rows of cells: header lines, then blocks of target rows."""

    header: tuple[tuple[Cell, ...], ...]
    blocks: tuple[tuple[str, tuple[tuple[Cell, ...], ...]], ...]

    def lines(self) -> Iterator[tuple[Cell, ...]]:
        """Every line as written to a sheet: header, then each block's title, columns, rows."""
        yield from self.header
        for title, rows in self.blocks:
            yield ()
            yield (title,)
            yield COLUMNS
            yield from rows


def target_label(share: float, strictly_above: bool) -> str:
    """A target's share as the plan says it, e.g. "Ít nhất 80%" or "Trên 90%"."""
    percent = f"{share * 100:.1f}".removesuffix(".0")
    return f"{'Trên' if strictly_above else 'Ít nhất'} {percent}%"


def _rows(
    commune: Commune, populations: dict[str, int], counts: dict[str, Tally], today: dt.date
) -> tuple[tuple[Cell, ...], ...]:
    rows = []
    for target in commune.targets:
        population = populations.get(target.group, 0)
        tally = counts.get(target.group, Tally())
        status = target_status(target, population, tally, today)
        rows.append(
            (
                TARGET_GROUPS[target.group],
                target.deadline,
                target_label(target.share, target.strictly_above),
                population,
                tally.enrolled,
                tally.certified,
                round(status.rate, 3),
                STATUS_LABELS[status.status],
            )
        )
    return tuple(rows)


def quarterly_report(commune: Commune, quarter: Quarter, snapshot: Snapshot) -> Report:
    """The report's cells for one quarter, from coverage counts as of its end (or now)."""
    info = commune.commune
    header: tuple[tuple[Cell, ...], ...] = (
        (TITLE,),
        ("Đơn vị", f"{info.name}, {info.province}"),
        ("Quý", str(quarter)),
        ("Số liệu tính đến ngày", snapshot.today),
        ("Hạn nộp báo cáo", quarter.due_date),
    )
    commune_populations = {group: commune_population(commune, group) for group in TARGET_GROUPS}
    blocks = [
        (
            f"Toàn xã: {info.name}",
            _rows(commune, commune_populations, tallies(snapshot, None), snapshot.today),
        )
    ]
    for hamlet in commune.hamlets:
        populations = dict(hamlet.population)
        blocks.append(
            (hamlet.name, _rows(commune, populations, tallies(snapshot, hamlet.id), snapshot.today))
        )
    return Report(header, tuple(blocks))


def _text(cell: Cell) -> str:
    return cell.isoformat() if isinstance(cell, dt.date) else str(cell)


def to_csv(report: Report) -> bytes:
    """The report as CSV in UTF-8 with a byte-order mark, so Excel shows Vietnamese right."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for line in report.lines():
        writer.writerow([_text(cell) for cell in line])
    return buffer.getvalue().encode("utf-8-sig")


_WIDTHS = (34, 14, 16, 10, 16, 20, 10, 24)
_RATE_COLUMN = COLUMNS.index("Tỷ lệ") + 1


def to_xlsx(report: Report) -> bytes:
    """The report as an Excel workbook with one sheet."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Báo cáo quý"
    bold = Font(bold=True)
    for line in report.lines():
        sheet.append(list(line))
        row = sheet.max_row
        titles = len(line) == 1 or line == COLUMNS
        for cell in sheet[row]:
            if titles:
                cell.font = bold
            if isinstance(cell.value, dt.date):
                cell.number_format = "yyyy-mm-dd"
        if len(line) == len(COLUMNS) and line != COLUMNS:
            sheet.cell(row=row, column=_RATE_COLUMN).number_format = "0.0%"
    for index, width in enumerate(_WIDTHS, 1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def filename(quarter: Quarter, extension: str) -> str:
    """The download's file name, e.g. `bao-cao-quy-2026Q4.csv` (ASCII, safe in any header)."""
    return f"bao-cao-quy-{quarter}.{extension}"
