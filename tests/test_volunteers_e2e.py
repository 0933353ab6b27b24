"""A volunteer on Telegram (the real `hocvuso serve` and the fake Bot API) learns with a
resident who has no phone: the completion is the resident's, with the volunteer as helper."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from fakes.telegram_api import FakeTelegram
from server import PROJECT, running_server
from test_telegram_e2e import _env, _rows, _walk_to_a_passed_quiz
from tgchat import TelegramUser


def test_a_volunteer_learns_with_a_resident_on_telegram(fake: FakeTelegram, tmp_path: Path) -> None:
    database = tmp_path / "tg.db"
    env = {**_env(fake, database), "HOCVUSO_TELEGRAM_BOT_USERNAME": "hocvuso_xa_bot"}
    invite = subprocess.run(
        [sys.executable, "-m", "hocvuso.cli", "volunteers", "invite", "--org", "Đoàn Thanh niên"],
        cwd=PROJECT,
        env={**env, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    code = invite.stdout.strip()
    with running_server(env, tmp_path / "server.log"):
        user = TelegramUser(fake, 5101)
        user.say("/start", "Bạn có đồng ý không?")
        user.press("Đồng ý", "Câu 1/3")
        user.press("Người dân", "Câu 2/3")
        user.say("thon 1", "Câu 3/3")
        user.say("1999", "Bạn muốn làm gì?")
        user.say(code, "Đoàn Thanh niên")
        user.press("Thêm người được giúp", "tên gọi")
        user.say("Bà Tư", "thuộc nhóm nào?")
        user.press("Người dân", "ở thôn nào?")
        user.say("thon 2", "sinh năm nào?")
        user.say("1946", "có đồng ý không?")
        user.press("Đã hỏi", "Đang học cùng Bà Tư")
        _walk_to_a_passed_quiz(user)
        user.press("Xong, về tài khoản", "Đã về tài khoản của bạn")
        # The referral link arrives with its QR code as an uploaded photo.
        user.press("Link giới thiệu", "https://t.me/hocvuso_xa_bot?start=ref-")
        fake.wait_for(lambda: bool(fake.uploads(user.chat_id)))
        assert bytes(fake.uploads(user.chat_id)[-1]["data"]).startswith(b"\x89PNG")
        assert fake.unanswered_callbacks() == set()
    learners = _rows(
        database,
        "select id, channel, hamlet_id, birth_year, nickname, assisted_by from learner order by id",
    )
    (volunteer_id, *_), resident = learners
    assert resident[1:] == ("assisted", "thon-2", 1946, "Bà Tư", volunteer_id)
    passed = _rows(
        database,
        "select learner_id, helper_id from progress_event where kind = 'quiz_passed'",
    )
    assert passed == [(resident[0], volunteer_id)]
    consent = _rows(database, f"select method from consent where learner_id = {resident[0]}")
    assert consent == [("in_person",)]
