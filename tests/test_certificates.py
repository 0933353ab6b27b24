"""Certificates: earned with the quiz that completes the core path, checked by code, withdrawn.

The dialog fixtures' adults have two core lessons (demo-otp, demo-qr: no paths.yaml, so every
lesson tagged `adult`), so passing both quizzes completes the core path.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterator
from typing import Any

import pytest
from dialog import FIXTURES, TODAY, Dialog, Press, Say, make_engine, play
from fakes.zalo_api import FakeZalo
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy.engine import Engine

from api.deps import ApiContext
from api.routes import routers
from bot.assistant import Assistant
from bot.channels import web
from bot.channels.zalo import ZaloChannel
from bot.channels.zalo_api import ZaloClient
from bot.commune import load_commune
from bot.content import load_content
from bot.engine import Engine as ChatEngine
from bot.engine import Reply, Repository
from bot.engine.certificates import code_in_image, image_path, initials_of
from storage.certcode import ALPHABET, CODE_LENGTH, display_code, new_code, normalise_code
from storage.db import make_engine as make_db
from storage.db import migrate
from storage.memory import MemoryRepository
from storage.records import CertificateIssue, Changes, Consent, LearnerKey
from storage.repository import SqlRepository

CONSENT_AND_PROFILE = [
    (Say("xin chào"), "Bạn có đồng ý không?"),
    (Press("Đồng ý"), "Câu 1/3"),
    (Press("Người dân"), "Câu 2/3"),
    (Press("Nà Lài"), "Câu 3/3"),
    (Say("1958"), "Bạn muốn làm gì?"),
]
FIRST_LESSON = [
    (Press("Học tiếp"), "Giữ bí mật mã OTP (1/2)"),
    (Press("Tiếp"), "(2/2)"),
    (Press("Làm bài kiểm tra"), "Câu 1/2"),
    (Press("Cúp máy"), "Câu 2/2"),
    (Say("156"), ("Chúc mừng", "Giữ bí mật mã OTP")),
]
SECOND_LESSON = [
    (Press("Học bài tiếp theo"), "Chuyển khoản bằng mã QR (1/1)"),
    (Press("Làm bài kiểm tra"), "Câu 1/1"),
]
CERTIFICATE = "Giấy chứng nhận hoàn thành"
VNEID_NOTE = ("không thay cho xác nhận chính thức", "VNeID", "binhdanhocvuso.gov.vn")
_CODE = re.compile(r"Mã chứng nhận: ([A-Z0-9]{5}-[A-Z0-9]{5})")

Certificates = MemoryRepository | SqlRepository


def _key(chat: str = "chat-1") -> LearnerKey:
    return LearnerKey("test", chat)


def _shown_code(dialog: Dialog) -> str:
    found = _CODE.search(dialog.text())
    assert found, dialog.text()
    code = normalise_code(found.group(1))
    assert code is not None
    return code


def _issue(code: str | None = None, *, initials: str | None = None) -> CertificateIssue:
    return CertificateIssue(
        code=code or new_code(),
        target_group="adult",
        hamlet_id="na-lai",
        issued_on=TODAY,
        lessons=("demo-otp", "demo-qr"),
        initials=initials,
    )


def _enrol(repository: Repository, chat: str = "chat-1") -> tuple[int, int]:
    learner = repository.enrol(_key(chat), Consent("2026-01"), "menu", {})
    assert learner is not None
    return learner.learner_id, learner.version


# -- codes ---------------------------------------------------------------------------------


def test_codes_are_ten_unambiguous_characters_and_read_back_however_typed() -> None:
    codes = {new_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(len(c) == CODE_LENGTH and set(c) <= set(ALPHABET) for c in codes)
    assert not set("0O1IL") & set(ALPHABET)
    code = next(iter(codes))
    assert normalise_code(code.lower()) == code
    assert normalise_code(f" {display_code(code).lower()} ") == code
    assert normalise_code(f"{code[:3]} {code[3:6]}-{code[6:]}") == code
    for wrong in ("", code[:-1], code + "2", "O" + code[1:], "../" + code[3:]):
        assert normalise_code(wrong) is None


def test_initials_come_only_from_a_nickname_without_forms_of_address_or_places() -> None:
    assert initials_of(None) is None
    assert initials_of("") is None
    assert initials_of("bà Tư xóm 3") == "T."
    assert initials_of("Ông Nguyễn Văn Đức") == "N.V.Đ."
    assert initials_of("cụ 85") is None


def test_image_paths_round_trip() -> None:
    code = new_code()
    assert code_in_image(image_path(code)) == code
    assert code_in_image("images/otp.png") is None
    assert code_in_image(f"https://x.example{image_path(code)}") is None


# -- the conversation ----------------------------------------------------------------------


def test_completing_the_core_path_issues_one_certificate_with_the_vneid_note(
    repository: Certificates,
) -> None:
    dialog = Dialog(make_engine(repository))
    play(dialog, [*CONSENT_AND_PROFILE, *FIRST_LESSON])
    # One core lesson of two: no certificate yet.
    assert CERTIFICATE not in dialog.text()
    learner = repository.load(_key())
    assert learner is not None and learner.certificate_code is None

    play(
        dialog,
        [
            *SECOND_LESSON,
            (Say("tên người nhận"), ("Chúc mừng", CERTIFICATE, "Người dân", *VNEID_NOTE)),
        ],
    )
    code = _shown_code(dialog)
    # No public address configured: the learner keeps the code for the commune to check.
    assert "Cán bộ xã dùng mã để kiểm tra" in dialog.text()
    assert dialog.last[-1].image == image_path(code)
    assert dialog.labels() == ["🏠 Về menu"]
    learner = repository.load(_key())
    assert learner is not None and learner.certificate_code == code
    record = repository.certificate(code)
    assert record is not None and record.valid
    assert (record.target_group, record.hamlet_id, record.issued_on) == ("adult", "na-lai", TODAY)
    assert record.lessons == ("demo-otp", "demo-qr")
    assert record.initials is None  # the learner gave no name, and none is asked for
    # The code stays at hand in "Tiến độ của tôi", for whoever lost the message.
    play(
        dialog,
        [
            (Press("Về menu"), "Bạn muốn làm gì?"),
            (Press("Tiến độ"), f"Giấy chứng nhận hoàn thành, mã {display_code(code)}"),
        ],
    )
    # Exactly one certificate is linked to the learner: withdrawing it withdraws one.
    assert repository.withdraw_certificate(learner.learner_id) == 1


def test_passing_a_core_quiz_again_after_the_certificate_issues_no_second_one(
    repository: Certificates,
) -> None:
    dialog = Dialog(make_engine(repository))
    play(
        dialog,
        [
            *CONSENT_AND_PROFILE,
            *FIRST_LESSON,
            *SECOND_LESSON,
            (Say("tên người nhận"), CERTIFICATE),
        ],
    )
    code = _shown_code(dialog)
    learner = repository.load(_key())
    assert learner is not None
    # Retake the second quiz by opening the lesson again from its skill list.
    retake = learner.version
    assert repository.apply(
        learner.learner_id,
        retake,
        Changes(state="quiz", data={"lesson": "demo-qr", "q": 0, "right": 0, "attempt": 2}),
    )
    play(dialog, [(Say("tên người nhận"), "Chúc mừng")])
    assert CERTIFICATE not in dialog.text()
    assert dialog.last[-1].image is None
    learner = repository.load(_key())
    assert learner is not None and learner.certificate_code == code
    assert repository.withdraw_certificate(learner.learner_id) == 1


def test_the_check_address_is_given_when_the_service_has_a_public_url() -> None:
    content = load_content(FIXTURES)
    engine = ChatEngine(
        MemoryRepository(),
        content,
        load_commune(FIXTURES / "commune.yaml"),
        Assistant(content),
        today=lambda: TODAY,
        public_url="https://hocvuso.xa.example/",
    )
    dialog = Dialog(engine)
    play(
        dialog,
        [
            *CONSENT_AND_PROFILE,
            *FIRST_LESSON,
            *SECOND_LESSON,
            (Say("tên người nhận"), CERTIFICATE),
        ],
    )
    code = _shown_code(dialog)
    assert f"https://hocvuso.xa.example/api/v1/certificates/{code}" in dialog.text()


def test_deleting_ones_data_withdraws_the_certificate(repository: Certificates) -> None:
    dialog = Dialog(make_engine(repository))
    play(
        dialog,
        [
            *CONSENT_AND_PROFILE,
            *FIRST_LESSON,
            *SECOND_LESSON,
            (Say("tên người nhận"), CERTIFICATE),
        ],
    )
    code = _shown_code(dialog)
    play(dialog, [(Say("xóa dữ liệu"), "xóa hết"), (Press("Xóa hết dữ liệu"), "Đã xóa")])
    record = repository.certificate(code)
    assert record is not None and not record.valid and record.initials is None


# -- storage -------------------------------------------------------------------------------


def test_a_certificate_is_written_with_its_step_and_only_once(repository: Certificates) -> None:
    learner_id, version = _enrol(repository)
    first = _issue(initials="T.")
    assert repository.apply(learner_id, version, Changes("result", {}, certificate=first))
    snapshot = repository.load(_key())
    assert snapshot is not None and snapshot.certificate_code == first.code
    record = repository.certificate(display_code(first.code).lower())
    assert record is not None
    assert (record.code, record.initials, record.lessons) == (first.code, "T.", first.lessons)
    assert record.valid and record.withdrawn_at is None

    # A second certificate for the same learner: the whole step is refused, nothing written.
    second = _issue()
    assert not repository.apply(learner_id, version + 1, Changes("menu", {}, certificate=second))
    snapshot = repository.load(_key())
    assert snapshot is not None and (snapshot.state, snapshot.version) == ("result", version + 1)
    assert repository.certificate(second.code) is None

    # A step whose version moved on writes no certificate either.
    other_id, other_version = _enrol(repository, "chat-2")
    stale = _issue()
    assert not repository.apply(other_id, other_version + 5, Changes("x", {}, certificate=stale))
    assert repository.certificate(stale.code) is None
    # The same code for someone else (one chance in 10^14) is refused, not merged.
    taken = _issue(first.code)
    assert not repository.apply(other_id, other_version, Changes("x", {}, certificate=taken))
    assert repository.load(_key("chat-2")).certificate_code is None  # type: ignore[union-attr]


def test_withdrawing_unlinks_the_certificate_but_keeps_its_code(repository: Certificates) -> None:
    learner_id, version = _enrol(repository)
    issue = _issue(initials="N.V.")
    assert repository.apply(learner_id, version, Changes("result", {}, certificate=issue))
    assert repository.withdraw_certificate(learner_id) == 1
    assert repository.withdraw_certificate(learner_id) == 0
    record = repository.certificate(issue.code)
    assert record is not None and not record.valid
    assert record.initials is None and record.withdrawn_at is not None
    snapshot = repository.load(_key())
    assert snapshot is not None and snapshot.certificate_code is None
    assert repository.certificate(new_code()) is None
    assert repository.certificate("not a code") is None


# -- the public check ----------------------------------------------------------------------


@pytest.fixture
def api(migrated_engine: Engine) -> Iterator[tuple[TestClient, SqlRepository]]:
    """The API routers over a migrated database holding the dialog fixtures' content."""
    app = FastAPI()
    for router in routers():
        app.include_router(router)
    app.state.api = ApiContext(
        migrated_engine,
        load_content(FIXTURES),
        load_commune(FIXTURES / "commune.yaml"),
        public_url="https://hocvuso.xa.example",
    )
    with TestClient(app) as client:
        yield client, SqlRepository(migrated_engine)


def _issued(repository: SqlRepository, initials: str | None = None) -> CertificateIssue:
    learner_id, version = _enrol(repository)
    issue = _issue(initials=initials)
    assert repository.apply(learner_id, version, Changes("result", {}, certificate=issue))
    return issue


def test_anyone_can_check_a_code_and_sees_only_what_the_certificate_shows(
    api: tuple[TestClient, SqlRepository],
) -> None:
    client, repository = api
    issue = _issued(repository, initials="T.")
    response = client.get(f"/api/v1/certificates/{issue.code}")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    assert body == {
        "initials": "T.",
        "hamlet": "Nà Lài",
        "group": "Người dân",
        "issued_on": TODAY.isoformat(),
        "lessons": ["Giữ bí mật mã OTP", "Chuyển khoản bằng mã QR"],
        "valid": True,
    }
    assert "chat" not in response.text and "learner" not in response.text
    typed = display_code(issue.code).lower()
    assert client.get(f"/api/v1/certificates/{typed}").json() == body


def test_a_browser_that_scanned_the_qr_code_gets_a_page(
    api: tuple[TestClient, SqlRepository],
) -> None:
    client, repository = api
    issue = _issued(repository)
    response = client.get(
        f"/api/v1/certificates/{issue.code}",
        headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    for fragment in ("Giấy chứng nhận hợp lệ", "Nà Lài", "23/11/2026", "Giữ bí mật mã OTP"):
        assert fragment in response.text


def test_unknown_codes_get_404_and_withdrawn_ones_410(
    api: tuple[TestClient, SqlRepository],
) -> None:
    client, repository = api
    for unknown in (new_code(), "abc", "x" * 300):
        for suffix in ("", ".png"):
            response = client.get(f"/api/v1/certificates/{unknown}{suffix}")
            assert response.status_code == 404
            assert "Không tìm thấy" in response.json()["detail"]
    issue = _issued(repository)
    snapshot = repository.load(_key())
    assert snapshot is not None
    assert repository.withdraw_certificate(snapshot.learner_id) == 1
    for suffix in ("", ".png"):
        response = client.get(f"/api/v1/certificates/{issue.code}{suffix}")
        assert response.status_code == 410
        assert response.json() == {
            "detail": "Giấy chứng nhận này đã bị thu hồi, không còn giá trị."
        }


def test_the_certificate_picture_is_a_png_with_room_for_its_text(
    api: tuple[TestClient, SqlRepository],
) -> None:
    client, repository = api
    issue = _issued(repository)
    response = client.get(f"/api/v1/certificates/{issue.code.lower()}.png")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    with Image.open(io.BytesIO(response.content)) as picture:
        assert picture.format == "PNG"
        width, height = picture.size
        assert width == 1200 and 800 <= height <= 2000
        # Mostly paper, with ink on it (text, frame, the QR code): not a blank page.
        colours = picture.convert("RGB").getcolors(maxcolors=1 << 20)
        assert colours is not None and len(colours) > 50


def test_certificate_records_carry_no_learner_id_or_chat() -> None:
    repository = MemoryRepository()
    learner_id, version = _enrol(repository)
    issue = _issue()
    assert repository.apply(learner_id, version, Changes("result", {}, certificate=issue))
    record = repository.certificate(issue.code)
    assert record is not None
    fields = set(record.__dataclass_fields__)
    assert fields == {
        "code",
        "initials",
        "hamlet_id",
        "target_group",
        "issued_on",
        "lessons",
        "withdrawn_at",
    }
    assert isinstance(record.issued_on, dt.date)


# -- Zalo: pictures only by URL --------------------------------------------------------------


@pytest.mark.parametrize("public_url", [None, "https://hocvuso.xa.example/"])
async def test_zalo_sends_the_picture_only_when_the_service_has_a_public_address(
    public_url: str | None,
) -> None:
    code = new_code()
    replies = [Reply("🎓 Giấy chứng nhận", image=image_path(code))]
    with FakeZalo() as fake:
        fake.send_text("chat-z", "hi")
        client = ZaloClient(fake.token, fake.url, first_backoff=0.01)
        try:
            channel = ZaloChannel(make_engine(MemoryRepository()), client, public_url=public_url)
            await channel.send("chat-z", replies)
        finally:
            await client.close()
        sent = fake.sent("chat-z")
    photos = [m["photo"] for m in sent if m["kind"] == "photo"]
    expected = [] if public_url is None else [f"https://hocvuso.xa.example{image_path(code)}"]
    assert photos == expected
    assert any("Giấy chứng nhận" in (m.get("text") or "") for m in sent)


# -- the web chat: the picture is a link on the same site ------------------------------------


def test_the_web_chat_shows_the_picture_from_the_certificate_address(sqlite_url: str) -> None:
    database = make_db(sqlite_url)
    migrate(database)
    content, commune = load_content(FIXTURES), load_commune(FIXTURES / "commune.yaml")
    engine = ChatEngine(
        SqlRepository(database), content, commune, Assistant(content), today=lambda: TODAY
    )
    app = FastAPI()
    app.include_router(web.router(engine))
    for router in routers():
        app.include_router(router)
    app.state.api = ApiContext(database, content, commune)
    replies: list[dict[str, Any]] = []

    def send(body: dict[str, str]) -> str:
        response = client.post("/chat/messages", json=body)
        assert response.status_code == 200, response.text
        replies[:] = response.json()["replies"]
        return "\n".join(r["text"] for r in replies)

    def press(label: str) -> str:
        ids = [b["id"] for r in replies for b in r["buttons"] if label in b["label"]]
        assert ids, label
        return send({"button": ids[0]})

    with TestClient(app) as client:
        send({"text": "/start"})
        for label in ("Đồng ý", "Người dân", "Nà Lài"):
            press(label)
        send({"text": "1958"})
        for label in ("Học tiếp", "Tiếp", "Làm bài kiểm tra", "Cúp máy"):
            press(label)
        send({"text": "156"})
        press("Học bài tiếp theo")
        press("Làm bài kiểm tra")
        assert CERTIFICATE in send({"text": "tên người nhận"})
        image = replies[-1]["image"]
        code = code_in_image(image)
        assert code is not None
        picture = client.get(image)
        assert picture.status_code == 200 and picture.headers["content-type"] == "image/png"
    database.dispose()
