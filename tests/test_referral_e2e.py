"""Referral end to end: the real `hocvuso serve` against the fake Zalo and Telegram servers."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fakes.telegram_api import FakeTelegram
from fakes.zalo_api import FakeZalo
from server import PROJECT, running_server
from tgchat import TelegramUser

from storage.db import make_engine
from storage.models import Volunteer, utcnow
from storage.records import Consent, LearnerKey
from storage.repository import SqlRepository

CODE = "K7QMPA"


def _add_volunteer(database: Path) -> int:
    """A consented learner with a volunteer row, written into the server's (migrated) file."""
    engine = make_engine(f"sqlite:///{database}")
    try:
        created = SqlRepository(engine).enrol(
            LearnerKey("zalo", "volunteer-chat"), Consent("2026-01"), "menu", {}
        )
        assert created is not None
        with engine.begin() as connection:
            connection.execute(
                sa.insert(Volunteer.__table__).values(  # type: ignore[attr-defined]
                    learner_id=created.learner_id,
                    org="Đoàn Thanh niên",
                    referral_code=CODE,
                    joined_at=utcnow(),
                )
            )
        return created.learner_id
    finally:
        engine.dispose()


def _referred_by(database: Path, channel: str, chat_id: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(database) as connection:
        return connection.execute(
            "select referred_by from learner where channel = ? and chat_id = ?", (channel, chat_id)
        ).fetchall()


@pytest.fixture
def zalo() -> Iterator[FakeZalo]:
    with FakeZalo() as server:
        yield server


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        yield server


def _zalo_say(fake: FakeZalo, chat_id: str, text: str, expect: str) -> str:
    """Type on Zalo; wait until the bot's new messages contain `expect` and end an answer."""
    before = len(fake.sent(chat_id))
    fake.send_text(chat_id, text)

    def arrived() -> bool:
        new = "\n".join(m.get("text") or "" for m in fake.sent(chat_id)[before:])
        return expect in new and "Trả lời" in new

    fake.wait_for(arrived, timeout=15.0, what=f"a reply containing {expect!r}")
    return "\n".join(m.get("text") or "" for m in fake.sent(chat_id)[before:])


def test_zalo_residents_typing_the_code_are_recorded_as_referred(
    zalo: FakeZalo, tmp_path: Path
) -> None:
    database = tmp_path / "zalo.db"
    env = {
        "HOCVUSO_DATABASE_URL": f"sqlite:///{database}",
        "HOCVUSO_CONTENT_DIR": str(PROJECT),
        "HOCVUSO_COMMUNE_FILE": str(PROJECT / "commune.yaml"),
        "HOCVUSO_ZALO_TOKEN": zalo.token,
        "HOCVUSO_ZALO_API_BASE": zalo.url,
    }
    with running_server(env, tmp_path / "server.log"):
        volunteer = _add_volunteer(database)
        # The code as the first message, then agreeing with it.
        text = _zalo_say(zalo, "resident-a", CODE.lower(), "Bạn có đồng ý không?")
        assert f"đồng ý {CODE}" in text
        assert _referred_by(database, "zalo", "resident-a") == []
        text = _zalo_say(zalo, "resident-a", f"đồng ý {CODE}", "Câu 1/3")
        assert "tình nguyện viên giới thiệu" in text
        assert _referred_by(database, "zalo", "resident-a") == [(volunteer,)]
        # Agreeing first, then typing the code.
        _zalo_say(zalo, "resident-b", "Xin chào", "Bạn có đồng ý không?")
        _zalo_say(zalo, "resident-b", "1", "Câu 1/3")
        text = _zalo_say(zalo, "resident-b", f"REF-{CODE}", "Câu 1/3")
        assert "tình nguyện viên giới thiệu" in text
        assert _referred_by(database, "zalo", "resident-b") == [(volunteer,)]


def test_telegram_deep_link_before_consent_is_recorded_after_agreeing(
    telegram: FakeTelegram, tmp_path: Path
) -> None:
    database = tmp_path / "tg.db"
    env = {
        "HOCVUSO_DATABASE_URL": f"sqlite:///{database}",
        "HOCVUSO_CONTENT_DIR": str(PROJECT),
        "HOCVUSO_COMMUNE_FILE": str(PROJECT / "commune.yaml"),
        "HOCVUSO_TELEGRAM_TOKEN": telegram.token,
        "HOCVUSO_TELEGRAM_API_BASE": f"{telegram.url}/bot",
        "HOCVUSO_TELEGRAM_BOT_USERNAME": telegram.bot_username,
    }
    with running_server(env, tmp_path / "server.log"):
        volunteer = _add_volunteer(database)
        user = TelegramUser(telegram, 5301)
        user.say(f"/start ref-{CODE}", "Bạn có đồng ý không?")
        assert _referred_by(database, "telegram", "5301") == []
        text = user.press("Đồng ý", "Câu 1/3")
        assert "tình nguyện viên giới thiệu" in text
        assert _referred_by(database, "telegram", "5301") == [(volunteer,)]
