"""`hocvuso learners show|delete`: an operator answers a learner's request about their data.

The learner is made through the engine (consent, profile, a lesson, a quiz with a typed
answer), on SQLite and PostgreSQL. `show` prints everything stored about them; `delete`
de-identifies them exactly as typing "xóa dữ liệu" does (storage/deidentify.py).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa
from dialog import Dialog, Press, Say, play
from dialog import make_engine as make_bot
from server import PROJECT
from sqlalchemy.engine import Engine

from hocvuso.cli import main
from storage.deidentify import DELETED_CHANNEL
from storage.learner_data import find_learner, learner_tables
from storage.repository import SqlRepository

NOTICE = "Bạn có đồng ý không?"
CHAT = "123456789"
TYPED = "Bà Tư hỏi cháu Nam"
ERASED = ("conversation", "consent", "applied_update", "reminder", "review_item", "volunteer")
KEPT = ("progress_event", "quiz_answer")


@pytest.fixture
def operator(migrated_engine: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Engine:
    """The settings an operator's shell has: the service's database URL and content."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(
        "HOCVUSO_DATABASE_URL", migrated_engine.url.render_as_string(hide_password=False)
    )
    monkeypatch.setenv("HOCVUSO_CONTENT_DIR", str(PROJECT))
    monkeypatch.setenv("HOCVUSO_COMMUNE_FILE", str(PROJECT / "commune.yaml"))
    return migrated_engine


def _learner(engine: Engine, chat: str = CHAT) -> int:
    """A Telegram learner with a profile, a lesson read and a quiz failed with typed text."""
    play(
        Dialog(make_bot(SqlRepository(engine)), chat, channel="telegram"),
        [
            (Say("xin chào"), NOTICE),
            (Press("Đồng ý"), "Câu 1/3"),
            (Press("Người dân"), "Câu 2/3"),
            (Press("Nà Lài"), "Câu 3/3"),
            (Say("1947"), "Bạn muốn làm gì?"),
            (Press("Học tiếp"), "Thẻ một"),
            (Press("Tiếp"), "Thẻ hai"),
            (Press("Làm bài kiểm tra"), "Câu 1/2"),
            (Press("Đọc mã cho họ"), ("Chưa đúng", "Câu 2/2")),
            (Say(TYPED), "Cần đúng 2 câu"),
        ],
    )
    found = find_learner(engine, "telegram", chat)
    assert found is not None
    return found


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def _rows(engine: Engine, table: str, learner_id: int) -> int:
    column = "id" if table == "learner" else "learner_id"
    with engine.connect() as connection:
        return int(
            connection.execute(
                sa.text(f"SELECT count(*) FROM {table} WHERE {column} = :id"), {"id": learner_id}
            ).scalar_one()
        )


def test_show_prints_everything_stored_about_the_learner(
    operator: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    learner_id = _learner(operator)
    _learner(operator, "someone-else")

    status, out, err = _run(capsys, "learners", "show", "--channel", "telegram", "--chat-id", CHAT)

    assert status == 0, err
    data = json.loads(out)
    # Every table that can hold a row about a learner is listed, even when empty.
    assert list(data) == [table.name for table in learner_tables()]
    assert {"learner", "consent", "conversation", "progress_event", "quiz_answer"} <= set(data)
    [learner] = data["learner"]
    assert (learner["id"], learner["channel"], learner["chat_id"]) == (learner_id, "telegram", CHAT)
    assert (learner["target_group"], learner["hamlet_id"], learner["birth_year"]) == (
        "adult",
        "na-lai",
        1947,
    )
    assert len(data["consent"]) == 1 and len(data["conversation"]) == 1
    assert data["progress_event"] and TYPED in [a["raw_text"] for a in data["quiz_answer"]]
    # Nothing of the other learner.
    for rows in data.values():
        assert all(row.get("learner_id", learner_id) == learner_id for row in rows)
    assert "someone-else" not in out
    # The same by id.
    by_id = _run(capsys, "learners", "show", "--id", str(learner_id))
    assert by_id[0] == 0 and json.loads(by_id[1]) == data


def test_delete_de_identifies_as_the_chat_does_and_the_counts_stay(
    operator: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    learner_id = _learner(operator)
    kept = {table: _rows(operator, table, learner_id) for table in KEPT}
    assert all(kept.values())

    status, out, err = _run(
        capsys, "learners", "delete", "--channel", "telegram", "--chat-id", CHAT
    )

    assert status == 0, err
    assert f"deleted the personal data of learner {learner_id}" in out
    assert find_learner(operator, "telegram", CHAT) is None
    for table in ERASED:
        assert _rows(operator, table, learner_id) == 0, table
    assert {table: _rows(operator, table, learner_id) for table in KEPT} == kept
    with operator.connect() as connection:
        learner = connection.execute(
            sa.text("SELECT * FROM learner WHERE id = :id"), {"id": learner_id}
        ).one()
        typed = connection.execute(
            sa.text("SELECT count(*) FROM quiz_answer WHERE raw_text IS NOT NULL")
        ).scalar_one()
    assert learner.channel == DELETED_CHANNEL and learner.chat_id != CHAT
    assert (learner.birth_year, learner.start_payload, learner.nickname) == (None, None, None)
    assert (learner.target_group, learner.hamlet_id) == ("adult", "na-lai")
    assert typed == 0
    # The chat is a stranger now: it meets the privacy notice again.
    dialog = Dialog(make_bot(SqlRepository(operator)), CHAT, channel="telegram")
    play(dialog, [(Say("xin chào"), NOTICE)])

    # Asking again, by the old chat or by id, changes nothing and says so.
    again = _run(capsys, "learners", "delete", "--channel", "telegram", "--chat-id", CHAT)
    assert again[0] == 1 and "no learner with chat 123456789 on telegram" in again[2]
    by_id = _run(capsys, "learners", "delete", "--id", str(learner_id))
    assert by_id[0] == 0 and "de-identified already" in by_id[1]


@pytest.mark.parametrize(
    "argv",
    [
        ["learners", "delete"],
        ["learners", "delete", "--channel", "telegram"],
        ["learners", "show", "--chat-id", "1"],
        ["learners", "show", "--channel", "zalo", "--chat-id", "1", "--id", "3"],
    ],
)
def test_learners_needs_a_chat_or_an_id(
    operator: Engine, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = _run(capsys, *argv)

    assert (status, out) == (2, "")
    assert err == "hocvuso: give either --channel and --chat-id, or --id\n"
