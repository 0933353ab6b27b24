"""A resident's whole first session through the real server's web chat endpoint."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from server import PROJECT, running_server

from bot.content import ChoiceQuestion, load_content


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The real `hocvuso serve` on a fresh SQLite file, with the project's own content."""
    folder = tmp_path_factory.mktemp("serve")
    database = folder / "hocvuso.db"
    env = {
        "HOCVUSO_DATABASE_URL": f"sqlite:///{database}",
        "HOCVUSO_CONTENT_DIR": str(PROJECT),
        "HOCVUSO_COMMUNE_FILE": str(PROJECT / "commune.yaml"),
    }
    with running_server(env, folder / "server.log") as base:
        yield base, database


class Chat:
    """A learner's browser: keeps the cookie, presses buttons by label."""

    def __init__(self, base: str) -> None:
        self.client = httpx.Client(base_url=base, timeout=10)
        self.replies: list[dict[str, object]] = []

    def post(self, body: dict[str, str]) -> str:
        response = self.client.post("/chat/messages", json=body)
        assert response.status_code == 200, response.text
        self.replies = response.json()["replies"]
        assert self.replies
        return "\n".join(str(r["text"]) for r in self.replies)

    def say(self, text: str) -> str:
        return self.post({"text": text})

    def press(self, label: str) -> str:
        buttons = [b for r in self.replies for b in r["buttons"]]  # type: ignore[attr-defined]
        found = [b["id"] for b in buttons if label in b["label"]]
        assert found, f"no button {label!r} among {[b['label'] for b in buttons]}"
        return self.post({"button": found[0]})

    def options(self) -> list[str]:
        return [b["label"] for r in self.replies for b in r["buttons"]]  # type: ignore[attr-defined]


def _rows(database: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(database) as connection:
        return connection.execute(sql).fetchall()


def test_the_page_is_served_without_external_resources(server: tuple[str, Path]) -> None:
    base, _ = server
    page = httpx.get(f"{base}/")
    assert page.status_code == 200
    assert 'lang="vi"' in page.text and "/static/chat.js" in page.text
    assert "http://" not in page.text and "https://" not in page.text
    assert httpx.get(f"{base}/static/chat.js").status_code == 200
    assert httpx.get(f"{base}/static/chat.css").status_code == 200


def test_consent_profile_lesson_quiz_and_completion_stored(server: tuple[str, Path]) -> None:
    base, database = server
    chat = Chat(base)
    assert "Bạn có đồng ý không?" in chat.say("/start")
    assert _rows(database, "select count(*) from learner") == [(0,)]
    assert "Câu 1/3" in chat.press("Đồng ý")
    assert "Câu 2/3" in chat.press("Người dân")
    assert "Câu 3/3" in chat.say("thon 1")
    assert "Bạn muốn làm gì?" in chat.say("1961")
    first_lesson = load_content(PROJECT).paths[0].core[0]
    text = chat.press("Học tiếp")
    assert "(1/" in text
    while "Làm bài kiểm tra" not in " ".join(chat.options()):
        chat.press("Tiếp")
    assert "Câu 1/" in chat.press("Làm bài kiểm tra")
    for _ in range(10):
        if "Chúc mừng" in "\n".join(str(r["text"]) for r in chat.replies):
            break
        _answer_correctly(chat)
    assert "Chúc mừng" in "\n".join(str(r["text"]) for r in chat.replies)

    learners = _rows(
        database, "select id, channel, target_group, hamlet_id, birth_year from learner"
    )
    assert [row[1:] for row in learners] == [("web", "adult", "thon-1", 1961)]
    learner_id = learners[0][0]
    passed = _rows(
        database,
        f"select lesson_id from progress_event where learner_id={learner_id}"
        " and kind='quiz_passed'",
    )
    assert passed == [(first_lesson,)]
    consent = _rows(database, f"select version, method from consent where learner_id={learner_id}")
    assert consent and consent[0][1] == "self"


def _answer_correctly(chat: Chat) -> None:
    """Answer the question on screen rightly, reading the answer from the teachers' quiz file."""

    text = "\n".join(str(r["text"]) for r in chat.replies)
    for quiz in load_content(PROJECT).quizzes.values():
        for question in quiz.questions:
            if question.text in text:
                if isinstance(question, ChoiceQuestion):
                    chat.press(question.options[question.correct_index].text)
                else:
                    chat.say(question.accept[0])
                return
    raise AssertionError(f"no known question in {text}")


def test_bad_requests_get_clear_statuses(server: tuple[str, Path]) -> None:
    base, _ = server
    client = httpx.Client(base_url=base)
    assert client.post("/chat/messages", content=b"{not json").status_code == 422
    assert client.post("/chat/messages", json={}).status_code == 422
    assert client.post("/chat/messages", json={"text": "a", "button": "b"}).status_code == 422
    assert client.post("/chat/messages", json={"button": "x" * 65}).status_code == 422
    stale = client.post("/chat/messages", json={"button": "7:m.next"})
    assert stale.status_code == 200
    assert "tin nhắn cũ" in stale.json()["replies"][0]["text"]
