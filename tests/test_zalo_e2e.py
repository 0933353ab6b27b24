"""Residents learning in Zalo: the real `hocvuso serve` against a fake Zalo Bot API server."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from fakes.zalo_api import FakeZalo
from server import PROJECT, free_port, running_server

from bot.textnorm import fold

SECRET = "zalo_webhook-Secret-42"
# Every answer of the bot ends with how to answer: "Trả lời 1, 2 hoặc 3." / "Trả lời 1 nhé."
ANSWER_END = re.compile(r"Trả lời [0-9, ]+(?:hoặc \d+)?(?: nhé)?\.\s*$")


def _rows(database: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(database) as connection:
        return connection.execute(sql).fetchall()


def _env(fake: FakeZalo, database: Path, content: Path = PROJECT) -> dict[str, str]:
    return {
        "HOCVUSO_DATABASE_URL": f"sqlite:///{database}",
        "HOCVUSO_CONTENT_DIR": str(content),
        "HOCVUSO_COMMUNE_FILE": str(PROJECT / "commune.yaml"),
        "HOCVUSO_ZALO_TOKEN": fake.token,
        "HOCVUSO_ZALO_API_BASE": fake.url,
    }


@pytest.fixture
def fake() -> Iterator[FakeZalo]:
    with FakeZalo() as server:
        yield server


class ZaloUser:
    """A resident typing in Zalo; every answer of the bot ends with "Trả lời ..." or a note."""

    def __init__(self, fake: FakeZalo, chat_id: str) -> None:
        self.fake = fake
        self.chat_id = chat_id

    def texts(self) -> list[str]:
        return [m.get("text") or "" for m in self.fake.sent(self.chat_id)]

    def say(self, text: str, expect: str, timeout: float = 15.0) -> str:
        before = len(self.texts())
        self.fake.send_text(self.chat_id, text)

        def arrived() -> bool:
            new = "\n".join(self.texts()[before:])
            return expect in new and ANSWER_END.search(new) is not None

        self.fake.wait_for(arrived, timeout=timeout, what=f"a reply containing {expect!r}")
        return "\n".join(self.texts()[before:])


def _choice_number(text: str, label: str) -> str:
    """The number in front of `label` in the newest numbered list."""
    for line in reversed(text.splitlines()):
        number, _, rest = line.partition(". ")
        if number.isdigit() and label in rest:
            return number
    raise AssertionError(f"no choice {label!r} in:\n{text}")


def _right_option(text: str) -> tuple[int | None, str]:
    """(1-based option number or None, the right answer's words) for the question in `text`."""
    for path in (PROJECT / "quizzes").glob("*.yaml"):
        for question in yaml.safe_load(path.read_text(encoding="utf-8"))["questions"]:
            if question["text"] in text:
                if "options" in question:
                    index = next(i for i, o in enumerate(question["options"]) if o.get("correct"))
                    return index + 1, question["options"][index]["text"]
                return None, question["accept"][0]
    raise AssertionError(f"no known question in:\n{text}")


def _learn_one_lesson(user: ZaloUser, text: str, *, by_number: bool) -> None:
    """From the menu's text: next lesson, read it, pass its quiz by numbers or by words."""
    text = user.say(_choice_number(text, "Học tiếp") if by_number else "hoc tiep", "(1/")
    while "Làm bài kiểm tra" not in text:
        text = user.say("1" if by_number else "tiep", "📖")
    text = user.say(
        _choice_number(text, "Làm bài kiểm tra") if by_number else "lam bai kiem tra", "Câu 1/"
    )
    for _ in range(10):
        if "Chúc mừng" in text:
            return
        number, words = _right_option(text.split("❓")[-1])
        answer = str(number) if by_number and number else fold(words)
        text = user.say(answer, "Đúng rồi")
    assert "Chúc mừng" in text


def _onboard(user: ZaloUser, *, by_number: bool) -> str:
    text = user.say("Xin chào", "Bạn có đồng ý không?")
    assert "Trả lời 1, 2 hoặc 3." in text
    user.say("1" if by_number else "dong y", "Câu 1/3")
    user.say("1" if by_number else "nguoi dan", "Câu 2/3")
    user.say("2" if by_number else "thon mau hai", "Câu 3/3")
    return user.say("1950", "Bạn muốn làm gì?")


def test_polling_a_resident_passes_a_quiz_by_numbers_and_another_without_diacritics(
    fake: FakeZalo, tmp_path: Path
) -> None:
    database = tmp_path / "zalo.db"
    log = tmp_path / "server.log"
    with running_server(_env(fake, database), log):
        numbers = ZaloUser(fake, "a1b2c3d4")
        _learn_one_lesson(numbers, _onboard(numbers, by_number=True), by_number=True)
        words = ZaloUser(fake, "e5f6a7b8")
        _learn_one_lesson(words, _onboard(words, by_number=False), by_number=False)
        assert all(len(t) <= 2000 for t in numbers.texts() + words.texts())
        # Pictures and stickers get words back, and nothing breaks.
        before = len(words.texts())
        fake.send_sticker(words.chat_id)
        fake.send_image(words.chat_id, "https://example.vn/a.jpg", caption="ảnh")
        fake.send_unsupported(words.chat_id)
        fake.wait_for(lambda: sum("hình ảnh" in t for t in words.texts()[before:]) == 3)
        assert not any(c.get("params", {}).get("reply_markup") for c in fake.calls("sendMessage"))
    rows = _rows(database, "select chat_id, target_group, hamlet_id from learner order by id")
    assert rows == [("a1b2c3d4", "adult", "thon-2"), ("e5f6a7b8", "adult", "thon-2")]
    passed = _rows(database, "select count(*) from progress_event where kind = 'quiz_passed'")
    assert passed == [(2,)]
    assert fake.token not in log.read_text(encoding="utf-8", errors="replace")


@pytest.mark.parametrize("shape", ["bare", "envelope"])
def test_webhook_forged_and_duplicate_delivery(fake: FakeZalo, tmp_path: Path, shape: str) -> None:
    database = tmp_path / "zalo.db"
    log = tmp_path / "server.log"
    port = free_port()
    env = {
        **_env(fake, database),
        "HOCVUSO_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "HOCVUSO_WEBHOOK_SECRET": SECRET,
    }
    fake.set_webhook_shape(shape)
    with running_server(env, log, port=port) as base:
        fake.wait_for(lambda: str(fake.webhook().get("url") or "").endswith("/webhooks/zalo"))
        hook = f"{base}/webhooks/zalo"
        body = {"event_name": "message.text.received", "message": {"message_id": "m1"}}
        assert httpx.post(hook, json=body).status_code == 403
        assert (
            httpx.post(hook, json=body, headers={"X-Bot-Api-Secret-Token": "nope-nope"}).status_code
            == 403
        )
        good = {"X-Bot-Api-Secret-Token": SECRET}
        assert httpx.post(hook, content=b"]", headers=good).status_code == 400
        assert httpx.post(hook, json={"event_name": "x"}, headers=good).status_code == 400
        assert _rows(database, "select count(*) from inbox_update") == [(0,)]

        user = ZaloUser(fake, "c0ffee01")
        user.say("chào", "Bạn có đồng ý không?")
        user.say("1", "Câu 1/3")
        sent_before = len(user.texts())
        message_id = fake.send_text(user.chat_id, "1")
        fake.wait_for(lambda: any("Câu 2/3" in t for t in user.texts()))
        fake.redeliver(message_id)
        fake.wait_for(
            lambda: (
                sum(
                    1
                    for d in fake.webhook()["deliveries"]
                    if d["message_id"] == message_id and d["status"] == 200
                )
                >= 2
            ),
            what="the duplicate delivered",
        )
        assert len(user.texts()) == sent_before + 1
        assert _rows(database, "select count(*) from inbox_update") == [(3,)]
        user.say("1", "Câu 3/3")
        menu = user.say("bo qua", "Bạn muốn làm gì?")
        _learn_one_lesson(user, menu, by_number=True)
    text = log.read_text(encoding="utf-8", errors="replace")
    assert fake.token not in text and SECRET not in text


def _many_lessons(root: Path) -> Path:
    """A content tree whose lesson list is too long for one Zalo message."""
    (root / "lessons").mkdir(parents=True)
    (root / "quizzes").mkdir()
    for i in range(1, 41):
        (root / "lessons" / f"bai-{i:02d}.yaml").write_text(
            yaml.safe_dump(
                {
                    "id": f"bai-{i:02d}",
                    "title": f"Bài {i:02d}: giữ an toàn cho tài khoản ngân hàng trên điện thoại",
                    "topics": ["pay.otp"],
                    "groups": ["adult"],
                    "order": i,
                    "cards": [{"text": f"Nội dung bài {i}."}],
                    "sources": [{"title": "Báo VietNamNet"}],
                },
                allow_unicode=True,
            ),
            encoding="utf-8",
        )
    return root


def test_a_list_too_long_for_one_message_is_split_and_still_answerable(
    fake: FakeZalo, tmp_path: Path
) -> None:
    content = _many_lessons(tmp_path / "content")
    with running_server(_env(fake, tmp_path / "zalo.db", content), tmp_path / "server.log"):
        user = ZaloUser(fake, "d00d0001")
        menu = _onboard(user, by_number=True)
        user.say(_choice_number(menu, "Chọn chủ đề"), "Bạn muốn học chủ đề nào")
        before = len(user.texts())
        listing = user.say("1", "Bài 40")
        pieces = user.texts()[before:]
        assert len(pieces) >= 2 and all(len(p) <= 2000 for p in pieces)
        user.say(_choice_number(listing, "Bài 37"), "Nội dung bài 37.")
