"""The certificate in Telegram: the real `hocvuso serve`, a fake Bot API server, a real check."""

from __future__ import annotations

import io
import re
from pathlib import Path

import httpx
from fakes.telegram_api import FakeTelegram
from PIL import Image
from server import running_server
from tgchat import TelegramUser

from storage.certcode import normalise_code

FIXTURES = Path(__file__).parent / "fixtures" / "dialog"


def test_completing_the_core_path_sends_the_certificate_as_a_photo(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    env = {
        "HOCVUSO_DATABASE_URL": f"sqlite:///{tmp_path / 'tg.db'}",
        "HOCVUSO_CONTENT_DIR": str(FIXTURES),
        "HOCVUSO_COMMUNE_FILE": str(FIXTURES / "commune.yaml"),
        "HOCVUSO_TELEGRAM_TOKEN": fake.token,
        "HOCVUSO_TELEGRAM_API_BASE": f"{fake.url}/bot",
    }
    with running_server(env, tmp_path / "server.log") as base:
        user = TelegramUser(fake, 5101)
        user.say("/start", "Bạn có đồng ý không?")
        user.press("Đồng ý", "Câu 1/3")
        user.press("Người dân", "Câu 2/3")
        user.press("Nà Lài", "Câu 3/3")
        user.say("1958", "Bạn muốn làm gì?")
        user.press("Học tiếp", "(1/2)")
        user.press("Tiếp", "(2/2)")
        user.press("Làm bài kiểm tra", "Câu 1/2")
        user.press("Cúp máy", "Câu 2/2")
        text = user.say("156", "Chúc mừng")
        assert "Giấy chứng nhận" not in text
        assert fake.uploads(user.chat_id) == []
        user.press("Học bài tiếp theo", "(1/1)")
        user.press("Làm bài kiểm tra", "Câu 1/1")
        text = user.say("tên người nhận", "Giấy chứng nhận hoàn thành")
        assert "VNeID" in text and "không thay cho xác nhận chính thức" in text
        found = re.search(r"Mã chứng nhận: ([A-Z0-9-]{11})", text)
        assert found, text
        code = normalise_code(found.group(1))
        assert code is not None

        # The photo arrived before the certificate's text, uploaded as a PNG file.
        uploads = fake.uploads(user.chat_id)
        assert [u["kind"] for u in uploads] == ["photo"]
        with Image.open(io.BytesIO(uploads[0]["data"])) as picture:
            assert picture.format == "PNG" and picture.size[0] == 1200
        messages = user.messages()
        photo_at = next(i for i, m in enumerate(messages) if "photo" in m)
        assert "Giấy chứng nhận hoàn thành" in messages[photo_at + 1]["text"]

        # The same server confirms the code, without a token, and shows no chat id.
        checked = httpx.get(f"{base}/api/v1/certificates/{found.group(1)}", timeout=10)
        assert checked.status_code == 200
        assert checked.json()["hamlet"] == "Nà Lài" and checked.json()["valid"] is True
        assert str(user.chat_id) not in checked.text
