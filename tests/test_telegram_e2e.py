"""Residents learning in Telegram: the real `hocvuso serve` against a fake Bot API server."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import httpx
import yaml
from fakes.telegram_api import FakeTelegram
from server import PROJECT, free_port, running_server
from tgchat import TelegramUser

SECRET = "webhook_Secret-123"


def _rows(database: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(database) as connection:
        return connection.execute(sql).fetchall()


def _env(fake: FakeTelegram, database: Path) -> dict[str, str]:
    return {
        "HOCVUSO_DATABASE_URL": f"sqlite:///{database}",
        "HOCVUSO_CONTENT_DIR": str(PROJECT),
        "HOCVUSO_COMMUNE_FILE": str(PROJECT / "commune.yaml"),
        "HOCVUSO_TELEGRAM_TOKEN": fake.token,
        "HOCVUSO_TELEGRAM_API_BASE": f"{fake.url}/bot",
    }


def _right_answer(text: str) -> tuple[str, str]:
    """("press", label) or ("say", words) for the quiz question shown in `text`."""
    for path in (PROJECT / "quizzes").glob("*.yaml"):
        quiz = yaml.safe_load(path.read_text(encoding="utf-8"))
        for question in quiz["questions"]:
            if question["text"] in text:
                if "options" in question:
                    return "press", next(o["text"] for o in question["options"] if o.get("correct"))
                return "say", question["accept"][0]
    raise AssertionError(f"no known question in {text!r}")


def _walk_to_a_passed_quiz(user: TelegramUser) -> None:
    """From the menu: start the next lesson, read it, answer its quiz rightly."""
    text = user.press("Học tiếp", "(1/")
    while "Làm bài kiểm tra" not in str(user.messages()[-1].get("reply_markup")):
        text = user.press("Tiếp", "📖")
    text = user.press("Làm bài kiểm tra", "Câu 1/")
    for _ in range(10):
        if "Chúc mừng" in text:
            return
        how, answer = _right_answer(user.messages()[-1]["text"])
        send = user.press if how == "press" else user.say
        text = send(answer, "Đúng rồi")
    assert "Chúc mừng" in text


def test_polling_a_resident_goes_from_start_to_a_passed_quiz(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    database = tmp_path / "tg.db"
    log = tmp_path / "server.log"
    with running_server(_env(fake, database), log):
        user = TelegramUser(fake, 4201)
        user.say("/start", "Bạn có đồng ý không?")
        assert _rows(database, "select count(*) from learner") == [(0,)]
        consent_message, _ = user.find_button("Đồng ý")
        user.press("Đồng ý", "Câu 1/3")
        # The pressed message now shows the choice and has no keyboard left.
        edited = next(
            m for m in user.messages() if m["message_id"] == consent_message["message_id"]
        )
        assert edited["text"].endswith("👉 ✅ Đồng ý") and not edited.get("reply_markup")
        user.press("Người dân", "Câu 2/3")
        user.say("thon 2", "Câu 3/3")
        user.say("1957", "Bạn muốn làm gì?")
        _walk_to_a_passed_quiz(user)
        commands = fake.calls("setMyCommands")
        assert commands, "setMyCommands was never called"
        registered = commands[-1]["params"]["commands"]
        if isinstance(registered, str):  # form-encoded parameters arrive as JSON text
            registered = json.loads(registered)
        names = {c["command"] for c in registered}
        assert names == {"start", "menu", "help", "xoadulieu"}
        assert fake.unanswered_callbacks() == set()
    learners = _rows(database, "select channel, chat_id, target_group, hamlet_id from learner")
    assert learners == [("telegram", "4201", "adult", "thon-2")]
    passed = _rows(database, "select count(*) from progress_event where kind = 'quiz_passed'")
    assert passed == [(1,)]
    assert fake.token not in log.read_text(encoding="utf-8", errors="replace")


def test_polling_deep_link_stale_garbage_buttons_and_long_text(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    database = tmp_path / "tg.db"
    with running_server(_env(fake, database), tmp_path / "server.log"):
        user = TelegramUser(fake, 4301)
        user.say("/start ref-abc123", "Bạn có đồng ý không?")
        user.press("Đồng ý", "Câu 1/3")
        assert _rows(database, "select start_payload from learner") == [("ref-abc123",)]

        old_message, old_data = user.find_button("Người dân")
        user.say("1", "Câu 2/3")
        before = len(user.messages())
        fake.press_button(user.chat_id, old_message["message_id"], old_data, forge=True)
        fake.wait_for(lambda: any("tin nhắn cũ" in m["text"] for m in user.messages()[before:]))
        before = len(user.messages())
        fake.press_button(user.chat_id, old_message["message_id"], "🙃" * 10, forge=True)
        fake.wait_for(lambda: any("tin nhắn cũ" in m["text"] for m in user.messages()[before:]))
        user.say("x" * 4096, "Mình chưa thấy thôn đó")
        user.say("😀🎉", "Mình chưa nhận được chữ nào")
        fake.wait_for(lambda: fake.unanswered_callbacks() == set())


def test_webhook_forged_duplicate_and_failed_processing(fake: FakeTelegram, tmp_path: Path) -> None:
    database = tmp_path / "tg.db"
    log = tmp_path / "server.log"
    port = free_port()
    env = {
        **_env(fake, database),
        "HOCVUSO_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "HOCVUSO_WEBHOOK_SECRET": SECRET,
    }
    with running_server(env, log, port=port) as base:
        fake.wait_for(lambda: fake.webhook().get("url", "").endswith("/webhooks/telegram"))
        assert fake.webhook()["secret"] == SECRET
        hook = f"{base}/webhooks/telegram"

        forged = {"update_id": 1, "message": {"message_id": 1, "date": 0, "text": "/start"}}
        assert httpx.post(hook, json=forged).status_code == 403
        wrong = {"X-Telegram-Bot-Api-Secret-Token": "wrong-secret-000"}
        assert httpx.post(hook, json=forged, headers=wrong).status_code == 403
        good = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        assert httpx.post(hook, content=b"{nope", headers=good).status_code == 400
        assert httpx.post(hook, json=[1, 2], headers=good).status_code == 400
        assert httpx.post(hook, content=b"x" * 70_000, headers=good).status_code == 413
        assert _rows(database, "select count(*) from inbox_update") == [(0,)]

        user = TelegramUser(fake, 4401)
        user.say("/start", "Bạn có đồng ý không?")
        user.press("Đồng ý", "Câu 1/3")
        update_id = fake.send_message(user.chat_id, "Người dân")
        fake.wait_for(lambda: any("Câu 2/3" in m["text"] for m in user.messages()))
        sent_before = len(user.messages())
        for _ in range(4):
            fake.redeliver(update_id)
        fake.wait_for(lambda: _deliveries_ok(fake, update_id) >= 5)
        assert len(user.messages()) == sent_before
        assert _rows(database, "select target_group from learner") == [("adult",)]

        # The bot cannot send for a moment: the update stays in the inbox and is retried.
        fake.fail_next("sendMessage", count=1, status=500)
        user.say("thon 1", "Câu 3/3", timeout=30)
        assert _rows(database, "select hamlet_id from learner") == [("thon-1",)]
        newest = "select status, attempts from inbox_update order by id desc limit 1"
        fake.wait_for(lambda: _rows(database, newest) == [("done", 1)], what="retried update done")
        user.press("Bỏ qua", "Bạn muốn làm gì?")
        _walk_to_a_passed_quiz(user)
        assert fake.unanswered_callbacks() == set()
    passed = _rows(database, "select count(*) from progress_event where kind = 'quiz_passed'")
    assert passed == [(1,)]
    text = log.read_text(encoding="utf-8", errors="replace")
    assert fake.token not in text and SECRET not in text


def _deliveries_ok(fake: FakeTelegram, update_id: int) -> int:
    deliveries = fake.webhook().get("deliveries", [])
    return sum(1 for d in deliveries if d.get("update_id") == update_id and d.get("status") == 200)


def test_429_retry_after_is_honoured(fake: FakeTelegram, tmp_path: Path) -> None:
    with running_server(_env(fake, tmp_path / "tg.db"), tmp_path / "server.log"):
        user = TelegramUser(fake, 4501)
        fake.fail_next("sendMessage", count=1, status=429, retry_after=1)
        user.say("/start", "Bạn có đồng ý không?")
        statuses = [c["status"] for c in fake.calls("sendMessage")]
        assert statuses[:2] == [429, 200]


def test_polling_survives_the_api_being_down_at_start(tmp_path: Path) -> None:
    port = free_port()
    fake = FakeTelegram(port=port)
    env = {
        **_env(fake, tmp_path / "tg.db"),
        "HOCVUSO_TELEGRAM_API_BASE": f"http://127.0.0.1:{port}/bot",
    }
    log = tmp_path / "server.log"
    with running_server(env, log) as base:
        # The web chat works while Telegram is unreachable.
        reply = httpx.post(f"{base}/chat/messages", json={"text": "xin chào"})
        assert reply.status_code == 200
        with fake:
            user = TelegramUser(fake, 4601)
            user.say("/start", "Bạn có đồng ý không?", timeout=40)
            polls = fake.calls("getUpdates")
            offsets = [int(c["params"].get("offset") or 0) for c in polls]
            assert offsets == sorted(offsets)
            assert all(c["status"] != 409 for c in polls), "more than one poller"
    assert "cannot reach the platform" in log.read_text(encoding="utf-8")


def test_a_refused_token_is_reported_and_the_web_chat_keeps_running(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    wrong = "999999:WRONG-token_abcdefghijklmnop"
    env = {**_env(fake, tmp_path / "tg.db"), "HOCVUSO_TELEGRAM_TOKEN": wrong}
    log = tmp_path / "server.log"
    with running_server(env, log) as base:
        fake.wait_for(
            lambda: "refused the bot token" in log.read_text(encoding="utf-8"),
            what="a clear log line about the refused token",
        )
        assert httpx.post(f"{base}/chat/messages", json={"text": "hi"}).status_code == 200
    text = log.read_text(encoding="utf-8")
    assert wrong not in text and "WRONG-token" not in text
