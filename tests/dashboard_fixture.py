"""A small app for the dashboard's browser test: the real page, and stub officials' API answers.

The stub answers are built with the API's own pydantic models (`api.schemas`), so the page is
tested against the shapes the real endpoints must return. Three tokens: `GOOD_TOKEN` sees
everything, `HAMLET_TOKEN` gets 403 on the commune overview and the quarterly report (like a
hamlet head's token), anything else gets 401.
"""

from __future__ import annotations

import datetime as dt
import math
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import uvicorn
from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Query, Response

from api import dashboard
from api.schemas import (
    GroupCoverage,
    HamletCoverage,
    HamletList,
    HardQuestion,
    LessonReport,
    LessonStats,
    OptionShare,
    Overview,
    Status,
    TargetStatus,
    Trend,
    WeekPoint,
)

GOOD_TOKEN = "good-token-0123456789"
HAMLET_TOKEN = "hamlet-token-0123456789"

AS_OF = dt.date(2026, 1, 12)
LABELS = {
    "adult": "Người dân trưởng thành",
    "pupil": "Học sinh",
    "official": "Cán bộ, công chức",
    "worker": "Người lao động",
}
# (group, share, deadline, strictly_above), as in the sample commune.yaml.
PLAN = [
    ("official", 1.0, dt.date(2025, 12, 31), False),
    ("pupil", 1.0, dt.date(2025, 12, 31), False),
    ("adult", 0.8, dt.date(2025, 12, 31), False),
    ("adult", 0.9, dt.date(2026, 12, 31), True),
    ("worker", 0.8, dt.date(2025, 12, 31), False),
    ("worker", 1.0, dt.date(2026, 12, 31), False),
]
# hamlet id, name, {group: (population, enrolled, certified)}
HAMLETS = [
    (
        "thon-1",
        "Thôn Mẫu Một",
        {
            "adult": (820, 790, 720),
            "pupil": (190, 190, 190),
            "official": (12, 12, 12),
            "worker": (45, 38, 30),
        },
    ),
    (
        "thon-2",
        "Thôn Mẫu Hai",
        {
            "adult": (640, 600, 560),
            "pupil": (150, 140, 120),
            "official": (8, 8, 8),
            "worker": (30, 20, 12),
        },
    ),
    (
        "thon-3",
        "Thôn Mẫu Ba",
        {
            "adult": (710, 650, 575),
            "pupil": (170, 165, 150),
            "official": (10, 10, 10),
            "worker": (25, 22, 20),
        },
    ),
    (
        "thon-4",
        "Thôn Mẫu Bốn",
        {
            "adult": (530, 440, 400),
            "pupil": (120, 115, 100),
            "official": (6, 6, 6),
            "worker": (20, 10, 4),
        },
    ),
]
LESSON_TITLES = {
    "vneid-muc-2": "Tài khoản VNeID mức 2: tự đi đăng ký, không ai làm hộ",
    "chuyen-khoan-qr": "Trả tiền bằng mã QR: đọc tên người nhận trước khi bấm",
    "gia-danh-cong-an": "Cuộc gọi giả danh công an",
}


def _needed(population: int, certified: int, share: float, strictly_above: bool) -> int:
    """People still to certify; a stub rule, the real one lives in the API."""
    required = (
        math.floor(share * population) + 1 if strictly_above else math.ceil(share * population)
    )
    return max(0, min(population, required) - certified)


def _targets(group: str, population: int, certified: int) -> list[TargetStatus]:
    """The plan's targets for one group, with a simple stub status rule."""
    rate = certified / population if population else 0.0
    targets = []
    for plan_group, share, deadline, strictly_above in PLAN:
        if plan_group != group:
            continue
        needed = _needed(population, certified, share, strictly_above)
        status: Status
        if needed == 0:
            status = "met"
        elif deadline < AS_OF:
            status = "missed"
        else:
            status = "on_track" if rate >= share * 0.9 else "behind"
        targets.append(
            TargetStatus(
                deadline=deadline,
                target_share=share,
                strictly_above=strictly_above,
                rate=rate,
                needed=needed,
                status=status,
            )
        )
    return targets


def _coverage(group: str, population: int, enrolled: int, certified: int) -> GroupCoverage:
    return GroupCoverage(
        group=group,
        label=LABELS[group],
        population=population,
        enrolled=enrolled,
        core_completed=(enrolled + certified) // 2,
        certified=certified,
        vneid_confirmed=certified // 2,
        targets=_targets(group, population, certified),
    )


def hamlet_list() -> HamletList:
    """Coverage in the four sample hamlets."""
    hamlets = [
        HamletCoverage(
            hamlet=hamlet,
            name=name,
            as_of=AS_OF,
            groups=[_coverage(group, *numbers) for group, numbers in groups.items()],
        )
        for hamlet, name, groups in HAMLETS
    ]
    return HamletList(as_of=AS_OF, hamlets=hamlets)


def overview() -> Overview:
    """Commune totals: the sums of the hamlets."""
    groups = []
    for group in LABELS:
        rows = [hamlet_groups[group] for _, _, hamlet_groups in HAMLETS]
        population, enrolled, certified = (sum(column) for column in zip(*rows, strict=True))
        groups.append(_coverage(group, population, enrolled, certified))
    return Overview(commune="Xã Trần Phú", as_of=AS_OF, groups=groups)


def lesson_report() -> LessonReport:
    """Three lessons' funnels and two hard questions."""
    lessons = [
        LessonStats(
            lesson="vneid-muc-2",
            title=LESSON_TITLES["vneid-muc-2"],
            started=1840,
            finished=1512,
            pass_rate=0.862,
            average_attempts=1.3,
        ),
        LessonStats(
            lesson="chuyen-khoan-qr",
            title=LESSON_TITLES["chuyen-khoan-qr"],
            started=1210,
            finished=873,
            pass_rate=0.741,
            average_attempts=1.6,
        ),
        LessonStats(
            lesson="gia-danh-cong-an",
            title=LESSON_TITLES["gia-danh-cong-an"],
            started=402,
            finished=95,
            pass_rate=None,
            average_attempts=None,
        ),
    ]
    hardest = [
        HardQuestion(
            lesson="chuyen-khoan-qr",
            question="q2",
            text="Quét mã QR xong, điện thoại mở một trang web bắt nhập mã OTP. Bạn làm gì?",
            answers=640,
            wrong_share=0.42,
            wrong_options=[
                OptionShare(option=1, text="Nhập mã OTP cho xong", share=0.31),
                OptionShare(option=3, text="Gọi cho người bán hỏi mã", share=0.11),
            ],
        ),
        HardQuestion(
            lesson="vneid-muc-2",
            question="q2",
            text='Có người gọi tự xưng công an, bảo tài khoản VNeID phải "lên mức 3". Bạn làm gì?',
            answers=1490,
            wrong_share=0.18,
            wrong_options=[
                OptionShare(option=1, text="Bấm vào link cho nhanh", share=0.12),
                OptionShare(option=3, text="Đọc số căn cước để họ kiểm tra", share=0.06),
            ],
        ),
    ]
    return LessonReport(lessons=lessons, hardest=hardest)


def trend(weeks: int) -> Trend:
    """`weeks` ISO weeks ending with the one of AS_OF, oldest first."""
    monday = AS_OF - dt.timedelta(days=AS_OF.weekday())
    points = []
    for back in range(weeks - 1, -1, -1):
        start = monday - dt.timedelta(weeks=back)
        year, week, _ = start.isocalendar()
        index = weeks - back
        points.append(
            WeekPoint(
                week=f"{year}-W{week:02d}",
                start=start,
                new_learners=40 + (index * 37) % 90,
                completions=25 + (index * 53) % 120,
            )
        )
    return Trend(weeks=points)


def _role(authorization: Annotated[str | None, Header()] = None) -> str:
    """The stub's token check: 'good', 'hamlet', or 401."""
    if authorization == f"Bearer {GOOD_TOKEN}":
        return "good"
    if authorization == f"Bearer {HAMLET_TOKEN}":
        return "hamlet"
    raise HTTPException(401, "invalid token", headers={"WWW-Authenticate": "Bearer"})


def _commune_wide(role: Annotated[str, Depends(_role)]) -> None:
    """A hamlet token may not see commune-wide numbers."""
    if role != "good":
        raise HTTPException(403, "forbidden")


def create_app() -> FastAPI:
    """The dashboard router and mount, plus stub `/api/v1/...` endpoints."""
    app = FastAPI()
    app.include_router(dashboard.router())
    dashboard.mount_dashboard(app)
    stub = APIRouter(prefix="/api/v1", dependencies=[Depends(_role)])
    commune_wide = [Depends(_commune_wide)]

    @stub.get("/overview", response_model=Overview, dependencies=commune_wide)
    def get_overview() -> Overview:
        return overview()

    @stub.get("/hamlets", response_model=HamletList)
    def get_hamlets(role: Annotated[str, Depends(_role)]) -> HamletList:
        full = hamlet_list()
        return full if role == "good" else HamletList(as_of=AS_OF, hamlets=full.hamlets[:1])

    @stub.get("/lessons", response_model=LessonReport)
    def get_lessons() -> LessonReport:
        return lesson_report()

    @stub.get("/trend", response_model=Trend)
    def get_trend(weeks: Annotated[int, Query(ge=1, le=52)] = 12) -> Trend:
        return trend(weeks)

    @stub.get("/report/quarterly.csv", dependencies=commune_wide)
    def get_csv() -> Response:
        return Response(
            "hamlet,group,certified\r\nthon-1,adult,720\r\n",
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="bao-cao-2026-Q1.csv"'},
        )

    @stub.get("/report/quarterly.xlsx", dependencies=commune_wide)
    def get_xlsx() -> Response:
        return Response(
            b"PK\x03\x04stub",
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": 'attachment; filename="bao-cao-2026-Q1.xlsx"'},
        )

    app.include_router(stub)
    return app


@contextmanager
def serving(app: FastAPI, deadline: float = 15.0) -> Iterator[str]:
    """Run `app` with uvicorn in a background thread on 127.0.0.1; yields its base URL."""
    # IPPROTO_TCP so asyncio sets TCP_NODELAY (no ~40 ms stall on a reused connection).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        give_up = time.monotonic() + deadline
        while not server.started:
            if not thread.is_alive() or time.monotonic() > give_up:
                raise RuntimeError(f"dashboard test server did not start in {deadline}s")
            time.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
