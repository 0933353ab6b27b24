"""A resident on Telegram (the real `hocvuso serve`, the fake Bot API): a missed question comes
back in a review when due, and deleting one's data leaves an anonymous tally behind."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import yaml
from fakes.telegram_api import FakeTelegram
from server import PROJECT, running_server
from test_telegram_e2e import _env, _right_answer, _rows
from tgchat import TelegramUser


def _wrong_answer(text: str) -> tuple[str, str]:
    """("press", label) or ("say", words): a wrong answer to the quiz question in `text`."""
    for path in (PROJECT / "quizzes").glob("*.yaml"):
        quiz = yaml.safe_load(path.read_text(encoding="utf-8"))
        for question in quiz["questions"]:
            if question["text"] in text:
                if "options" in question:
                    return "press", next(
                        o["text"] for o in question["options"] if not o.get("correct")
                    )
                return "say", "khong biet gi ca"
    raise AssertionError(f"no known question in {text!r}")


def test_a_missed_question_is_reviewed_when_due_then_the_learner_deletes_their_data(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    database = tmp_path / "tg.db"
    with running_server(_env(fake, database), tmp_path / "server.log"):
        user = TelegramUser(fake, 5201)
        user.say("/start", "Bạn có đồng ý không?")
        user.press("Đồng ý", "Câu 1/3")
        user.press("Người dân", "Câu 2/3")
        user.say("thon 1", "Câu 3/3")
        user.say("1960", "Bạn muốn làm gì?")
        user.press("Học tiếp", "(1/")
        while "Làm bài kiểm tra" not in str(user.messages()[-1].get("reply_markup")):
            user.press("Tiếp", "📖")
        user.press("Làm bài kiểm tra", "Câu 1/")
        how, answer = _wrong_answer(user.messages()[-1]["text"])
        (user.press if how == "press" else user.say)(answer, "Chưa đúng")
        user.say("menu", "Bạn muốn làm gì?")
        # Not due the same day: no review offered yet.
        assert "Ôn lại câu sai" not in str(user.messages()[-1].get("reply_markup"))
        assert _rows(database, "select count(*) from review_item") == [(1,)]
        with sqlite3.connect(database) as connection:
            connection.execute("update review_item set due_at = '2000-01-01 00:00:00.000000'")
        user.say("menu", "Bạn muốn làm gì?")
        text = user.press("Ôn lại câu sai (1)", "Ôn lại 1/1")
        how, answer = _right_answer(text)
        (user.press if how == "press" else user.say)(answer, "Đúng rồi")
        passed_before = _rows(database, "select count(*) from progress_event")
        user.say("/xoadulieu", "xóa hết dữ liệu")
        # The last answer has no keyboard (there is nobody left to answer), so wait directly.
        message, data = user.find_button("Xóa hết dữ liệu")
        fake.press_button(user.chat_id, message["message_id"], data)
        fake.wait_for(lambda: any("Đã xóa hết" in m["text"] for m in user.messages()))
        assert fake.unanswered_callbacks() == set()
    learners = _rows(database, "select channel, chat_id, birth_year, target_group from learner")
    assert len(learners) == 1
    channel, chat_id, birth_year, group = learners[0]
    assert (channel, birth_year, group) == ("deleted", None, "adult") and chat_id != "5201"
    for table in ("consent", "conversation", "review_item", "applied_update"):
        assert _rows(database, f"select count(*) from {table}") == [(0,)], table
    # The anonymous tally stays: the officials' figures do not move.
    assert _rows(database, "select count(*) from progress_event") == passed_before
