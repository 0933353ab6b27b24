"""The statistics routes over HTTP, with real tokens, on the hand-built dataset.

Figures are those of tests/test_stats.py (counted by hand there); here the point is status
codes, response shapes, hamlet scoping, the downloads, and that no learner identifier leaks.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import openpyxl
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.engine import Engine
from stats_fixture import NOW, Dataset, build_dataset, load_stats_commune, load_stats_content

from api.deps import ApiContext
from api.report import COLUMNS, STATUS_LABELS
from api.routes import routers
from api.schemas import HamletCoverage, HamletList, LessonReport, Overview, PublicSummary, Trend
from api.schemas import Unanswered as UnansweredModel
from bot.content import TARGET_GROUPS
from storage.officials import OfficialStore

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ADULT, OFFICIAL = TARGET_GROUPS["adult"], TARGET_GROUPS["official"]


@dataclass
class Api:
    """A client on a small app with the statistics routers, and one token per role."""

    client: TestClient
    dataset: Dataset
    tokens: dict[str, str]
    bodies: list[bytes]

    def get(self, path: str, role: str | None = "admin", **params: Any) -> Response:
        """GET `path` as `role` (None: no token), remembering the body."""
        headers = {} if role is None else {"Authorization": f"Bearer {self.tokens[role]}"}
        response = self.client.get(path, headers=headers, params=params)
        self.bodies.append(response.content)
        return response


@pytest.fixture
def api(migrated_engine: Engine) -> Iterator[Api]:
    """The dataset on each backend, the routers on a fresh app, and admin/viewer/hamlet tokens."""
    dataset = build_dataset(migrated_engine)
    app = FastAPI()
    for router in routers():
        app.include_router(router)
    app.state.api = ApiContext(
        migrated_engine, load_stats_content(), load_stats_commune(), now=lambda: NOW
    )
    officials = OfficialStore(migrated_engine)
    app.state.officials = officials
    tokens = {
        "admin": officials.add("Chủ tịch xã", "admin")[1],
        "viewer": officials.add("Văn phòng xã", "viewer")[1],
        "hamlet": officials.add("Trưởng thôn Một", "hamlet", "thon-mot")[1],
    }
    with TestClient(app) as client:
        yield Api(client, dataset, tokens, [])


PROTECTED = [
    "/api/v1/overview",
    "/api/v1/hamlets",
    "/api/v1/hamlets/thon-mot",
    "/api/v1/lessons",
    "/api/v1/trend",
    "/api/v1/questions/unanswered",
    "/api/v1/report/quarterly.csv",
    "/api/v1/report/quarterly.xlsx",
]


def test_every_route_but_the_public_one_needs_a_token(api: Api) -> None:
    for path in PROTECTED:
        response = api.get(path, role=None)
        assert response.status_code == 401, path
        assert response.headers["www-authenticate"] == "Bearer"
    assert api.get("/api/v1/public/summary", role=None).status_code == 200


def test_overview(api: Api) -> None:
    for role in ("admin", "viewer", "hamlet"):
        response = api.get("/api/v1/overview", role)
        assert response.status_code == 200, role

    body = response.json()
    overview = Overview.model_validate(body)
    assert set(body) == {"commune", "as_of", "groups"}
    assert overview.as_of == dt.date(2026, 11, 25)
    groups = {g.group: g for g in overview.groups}
    # Hand counts in tests/test_stats.py::test_overview_now.
    assert (groups["adult"].enrolled, groups["adult"].certified) == (6, 3)
    assert [t.status for t in groups["adult"].targets] == ["met", "behind"]
    assert [t.status for t in groups["worker"].targets] == ["on_track"]
    assert [t.status for t in groups["official"].targets] == ["missed"]
    assert set(body["groups"][0]) == {
        "group",
        "label",
        "population",
        "enrolled",
        "core_completed",
        "certified",
        "vneid_confirmed",
        "hands_on_checked",
        "targets",
    }
    assert set(body["groups"][0]["targets"][0]) == {
        "deadline",
        "target_share",
        "strictly_above",
        "rate",
        "needed",
        "status",
    }


def test_hamlets_are_scoped_to_a_hamlet_token(api: Api) -> None:
    everyone = HamletList.model_validate(api.get("/api/v1/hamlets").json())
    own = HamletList.model_validate(api.get("/api/v1/hamlets", "hamlet").json())

    assert [h.hamlet for h in everyone.hamlets] == ["thon-mot", "thon-hai"]
    assert [h.name for h in everyone.hamlets] == ["Thôn Một", "Thôn Hai"]
    assert [h.hamlet for h in own.hamlets] == ["thon-mot"]
    assert own.hamlets[0] == everyone.hamlets[0]
    adult = next(g for g in own.hamlets[0].groups if g.group == "adult")
    # thon-mot adults: A1 A2 A4 enrolled, A1 A2 certified.
    assert (adult.population, adult.enrolled, adult.certified) == (6, 3, 2)


def test_one_hamlet(api: Api) -> None:
    response = api.get("/api/v1/hamlets/thon-hai", "viewer")
    assert response.status_code == 200
    hamlet = HamletCoverage.model_validate(response.json())
    worker = next(g for g in hamlet.groups if g.group == "worker")
    assert (hamlet.hamlet, hamlet.name, worker.enrolled, worker.certified) == (
        "thon-hai",
        "Thôn Hai",
        3,
        2,
    )

    assert api.get("/api/v1/hamlets/thon-mot", "hamlet").status_code == 200
    assert api.get("/api/v1/hamlets/thon-hai", "hamlet").status_code == 403
    # A hamlet token learns nothing about which other ids exist: 403, not 404.
    assert api.get("/api/v1/hamlets/no-such-place", "hamlet").status_code == 403
    assert api.get("/api/v1/hamlets/no-such-place").status_code == 404
    # Learners of a hamlet missing from the commune file have no hamlet page.
    assert api.get("/api/v1/hamlets/thon-cu").status_code == 404


def test_lessons(api: Api) -> None:
    response = api.get("/api/v1/lessons", "hamlet")
    assert response.status_code == 200
    report = LessonReport.model_validate(response.json())

    assert [(s.lesson, s.started, s.finished) for s in report.lessons] == [
        ("a-otp", 10, 9),
        ("b-qr", 7, 6),
        ("c-vneid", 2, 1),
    ]
    assert [(h.lesson, h.question) for h in report.hardest] == [
        ("a-otp", "q1"),
        ("a-otp", "q2"),
        ("b-qr", "q1"),
        ("b-qr", "q2"),
    ]
    assert response.json()["hardest"][0]["wrong_options"][0] == {
        "option": 1,
        "text": "Đọc mã cho họ",
        "share": 3 / 11,
    }
    fewer = LessonReport.model_validate(api.get("/api/v1/lessons", min_answers=3).json())
    assert (fewer.hardest[0].lesson, fewer.hardest[0].question) == ("c-vneid", "q1")
    assert api.get("/api/v1/lessons", min_answers=0).status_code == 422


def test_trend(api: Api) -> None:
    five = Trend.model_validate(api.get("/api/v1/trend", weeks=5).json())
    default = Trend.model_validate(api.get("/api/v1/trend", "viewer").json())

    # Hand counts in tests/test_stats.py::test_weekly_trend_across_a_vietnam_week_boundary.
    assert [(w.week, w.new_learners, w.completions) for w in five.weeks] == [
        ("2026-W44", 2, 0),
        ("2026-W45", 0, 4),
        ("2026-W46", 0, 1),
        ("2026-W47", 2, 1),
        ("2026-W48", 2, 2),
    ]
    assert len(default.weeks) == 12
    assert (default.weeks[0].week, default.weeks[-1].week) == ("2026-W37", "2026-W48")
    assert default.weeks[-5:] == five.weeks
    assert len(api.get("/api/v1/trend", weeks=104).json()["weeks"]) == 104
    for bad in (0, 105, "x"):
        assert api.get("/api/v1/trend", weeks=bad).status_code == 422


def test_unanswered(api: Api) -> None:
    response = api.get("/api/v1/questions/unanswered", limit=2)
    assert response.status_code == 200

    assert UnansweredModel.model_validate(response.json()).model_dump(mode="json") == {
        "questions": [
            {"text": "mat khau vneid", "count": 3, "last_asked": "2026-11-24"},
            {"text": "hoc phi", "count": 3, "last_asked": "2026-11-05"},
        ]
    }
    assert len(api.get("/api/v1/questions/unanswered").json()["questions"]) == 3
    for bad in (0, 201):
        assert api.get("/api/v1/questions/unanswered", limit=bad).status_code == 422


def test_public_summary(api: Api) -> None:
    response = api.get("/api/v1/public/summary", role=None)

    summary = PublicSummary.model_validate(response.json())
    assert [(g.group, g.certified, g.rate) for g in summary.groups] == [
        # Fewer than five certified everywhere: the rate is hidden too, or rate x population
        # would give the count back.
        ("adult", "<5", None),
        ("pupil", "<5", None),
        ("official", "<5", None),
        ("worker", "<5", None),
    ]


def _csv_lines(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def _xlsx_lines(body: bytes) -> list[list[str]]:
    sheet = openpyxl.load_workbook(io.BytesIO(body)).active
    lines = []
    for row in sheet.iter_rows(values_only=True):
        cells = list(row)
        while cells and cells[-1] is None:
            cells.pop()
        lines.append([_as_text(cell) for cell in cells])
    return lines


def _as_text(cell: object) -> str:
    if isinstance(cell, dt.datetime):
        return cell.date().isoformat()
    return "" if cell is None else str(cell)


def _figures(lines: list[list[str]]) -> list[list[str | float]]:
    # The workbook gives 0.0 back as 0: compare numbers as numbers.
    return [[_number(cell) for cell in line] for line in lines]


def _number(text: str) -> str | float:
    try:
        return float(text)
    except ValueError:
        return text


def test_quarterly_csv(api: Api) -> None:
    response = api.get("/api/v1/report/quarterly.csv", quarter="2026Q3")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert (
        response.headers["content-disposition"] == 'attachment; filename="bao-cao-quy-2026Q3.csv"'
    )
    assert response.content.startswith(b"\xef\xbb\xbf")
    lines = _csv_lines(response.content)
    assert lines[2] == ["Quý", "2026Q3"]
    assert lines[3] == ["Số liệu tính đến ngày", "2026-09-30"]
    assert lines[4] == ["Hạn nộp báo cáo", "2026-08-15"]
    assert lines[6] == ["Toàn xã: Xã Thống Kê"]
    assert lines[7] == list(COLUMNS)
    # Hand counts in tests/test_stats.py::test_quarterly_report_for_a_past_quarter.
    assert lines[8] == [
        OFFICIAL,
        "2026-06-30",
        "Ít nhất 100%",
        "3",
        "2",
        "1",
        "0.333",
        STATUS_LABELS["missed"],
    ]
    assert lines[10] == [ADULT, "2026-12-31", "Trên 50%", "10", "3", "1", "0.1", "Chậm tiến độ"]
    assert ["Thôn Một"] in lines and ["Thôn Hai"] in lines
    assert len(lines) == 5 + 3 * (3 + 5)  # header, then 3 blocks of blank, title, columns, 5 rows


def test_quarterly_xlsx_has_the_csv_figures(api: Api) -> None:
    csv_body = api.get("/api/v1/report/quarterly.csv", "viewer", quarter="2026Q3").content
    response = api.get("/api/v1/report/quarterly.xlsx", "viewer", quarter="2026Q3")

    assert response.status_code == 200
    assert response.headers["content-type"] == XLSX_TYPE
    assert (
        response.headers["content-disposition"] == 'attachment; filename="bao-cao-quy-2026Q3.xlsx"'
    )
    assert _figures(_xlsx_lines(response.content)) == _figures(_csv_lines(csv_body))
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    # Numbers stay numbers in the workbook: population, counts and the rate.
    assert [cell.value for cell in sheet[9]][3:7] == [3, 2, 1, 0.333]
    assert sheet.cell(row=9, column=7).number_format == "0.0%"


def test_report_quarter_defaults_and_future(api: Api) -> None:
    current = api.get("/api/v1/report/quarterly.csv")
    future = api.get("/api/v1/report/quarterly.csv", quarter="2027Q1")

    assert 'filename="bao-cao-quy-2026Q4.csv"' in current.headers["content-disposition"]
    lines = _csv_lines(current.content)
    assert lines[3:5] == [
        ["Số liệu tính đến ngày", "2026-11-25"],
        ["Hạn nộp báo cáo", "2026-11-15"],
    ]
    # Now: adults 6 enrolled, 3 certified (tests/test_stats.py::test_overview_now).
    assert lines[9][3:8] == ["10", "6", "3", "0.3", STATUS_LABELS["met"]]
    future_lines = _csv_lines(future.content)
    assert future_lines[3:5] == [
        ["Số liệu tính đến ngày", "2026-11-25"],
        ["Hạn nộp báo cáo", "2027-02-15"],
    ]
    assert future_lines[8:] == lines[8:]


def test_report_rejects_bad_quarters_and_hamlet_tokens(api: Api) -> None:
    for bad in ("2026Q5", "2026q4", "2026-Q4", "Q4", "0000Q1", ""):
        for path in ("/api/v1/report/quarterly.csv", "/api/v1/report/quarterly.xlsx"):
            assert api.get(path, quarter=bad).status_code == 422, (path, bad)
    assert api.get("/api/v1/report/quarterly.csv", "hamlet").status_code == 403
    assert api.get("/api/v1/report/quarterly.xlsx", "hamlet").status_code == 403


def test_no_response_names_a_learner(api: Api) -> None:
    paths = [path for path in PROTECTED if "quarterly" not in path]
    for path in paths:
        for role in ("admin", "hamlet"):
            api.get(path, role)
    api.get("/api/v1/public/summary", role=None)
    api.get("/api/v1/lessons", min_answers=1)
    api.get("/api/v1/questions/unanswered", limit=200)
    api.get("/api/v1/trend", weeks=104)
    for quarter in ("2026Q1", "2026Q2", "2026Q3", "2026Q4"):
        api.get("/api/v1/report/quarterly.csv", quarter=quarter)
        xlsx = api.get("/api/v1/report/quarterly.xlsx", quarter=quarter).content
        api.bodies.append(repr(_xlsx_lines(xlsx)).encode())

    chat_ids = list(api.dataset.chat_ids.values())
    assert len(chat_ids) == 14
    for body in api.bodies:
        text = body.decode("utf-8", "replace")
        for chat_id in chat_ids:
            assert chat_id not in text
        assert "learner_id" not in text


def test_openapi_describes_every_route(api: Api) -> None:
    schema = api.client.get("/openapi.json").json()

    expected = {
        "/api/v1/overview": "Overview",
        "/api/v1/hamlets": "HamletList",
        "/api/v1/hamlets/{hamlet_id}": "HamletCoverage",
        "/api/v1/lessons": "LessonReport",
        "/api/v1/trend": "Trend",
        "/api/v1/questions/unanswered": "Unanswered",
        "/api/v1/public/summary": "PublicSummary",
    }
    for path, model in expected.items():
        operation = schema["paths"][path]["get"]
        assert operation["description"], path
        content = operation["responses"]["200"]["content"]["application/json"]
        assert content["schema"]["$ref"] == f"#/components/schemas/{model}"
    for path in ("/api/v1/report/quarterly.csv", "/api/v1/report/quarterly.xlsx"):
        assert schema["paths"][path]["get"]["description"]
