"""Referral: residents arriving through a volunteer's link or typed code are recorded once.

Volunteer rows are inserted directly (SQL or the memory repository): how a learner becomes a
volunteer is tested with the volunteer menu.
"""

from __future__ import annotations

import base64
import io
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa
from dialog import Dialog, Press, Say, make_engine
from fakes.telegram_api import FakeTelegram
from PIL import Image

from bot.channels import qr
from bot.channels.telegram import TelegramChannel
from bot.channels.web import _out
from bot.channels.zalo import _qr_in_words, numbered
from bot.engine import Engine, Reply, Repository, referral, texts
from bot.engine.messages import qr_image, qr_text
from bot.engine.states import State
from storage.memory import MemoryRepository
from storage.models import Volunteer, utcnow
from storage.records import Changes, Consent, LearnerKey
from storage.repository import SqlRepository

CODE = "K7QMPA"
OTHER = "HX4RTB"


def _make_volunteer(repository: Repository, learner_id: int, code: str) -> None:
    """Give an enrolled learner a volunteer row with this referral code."""
    if isinstance(repository, MemoryRepository):
        repository.add_volunteer(learner_id, code)
        return
    assert isinstance(repository, SqlRepository)
    with repository.engine.begin() as connection:
        connection.execute(
            sa.insert(Volunteer.__table__).values(  # type: ignore[attr-defined]
                learner_id=learner_id, org="Đoàn Thanh niên", referral_code=code, joined_at=utcnow()
            )
        )


def _volunteer(repository: Repository, chat_id: str = "vol-1", code: str = CODE) -> int:
    """A learner who consented and is a volunteer with `code`; returns their learner id."""
    created = repository.enrol(
        LearnerKey("telegram", chat_id), Consent("2026-01"), State.MENU.value, {}
    )
    assert created is not None
    _make_volunteer(repository, created.learner_id, code)
    return created.learner_id


def _referred_by(repository: Repository, chat_id: str, channel: str = "test") -> int | None:
    snapshot = repository.load(LearnerKey(channel, chat_id))
    assert snapshot is not None, "the learner was not enrolled"
    return snapshot.referred_by


def _consent(dialog: Dialog) -> None:
    dialog.send(Say("/start"))
    dialog.send(Press("Đồng ý"))
    assert "Câu 1/3" in dialog.text()


# -- Telegram deep links ----------------------------------------------------------------------


def test_deep_link_before_consent_records_the_volunteer_once_they_agree(
    repository: Repository,
) -> None:
    volunteer = _volunteer(repository)
    resident = Dialog(make_engine(repository), "res-1")
    resident.send(Say(f"/start ref-{CODE}"))
    assert "Bạn có đồng ý không?" in resident.text()
    assert CODE in resident.text()
    # Nothing is stored before consent: the code rides on the "Đồng ý" button.
    assert repository.load(LearnerKey("test", "res-1")) is None
    assert resident.button("Đồng ý") == f"0:ok.ref-{CODE}"
    resident.send(Press("Đồng ý"))
    assert texts.REFERRAL_THANKS in resident.text()
    assert "Câu 1/3" in resident.text()
    assert _referred_by(repository, "res-1") == volunteer
    snapshot = repository.load(LearnerKey("test", "res-1"))
    assert snapshot is not None and snapshot.start_payload == f"ref-{CODE}"


def test_deep_link_after_consent_records_the_volunteer(repository: Repository) -> None:
    volunteer = _volunteer(repository)
    resident = Dialog(make_engine(repository), "res-2")
    _consent(resident)
    resident.send(Say(f"/start ref-{CODE.lower()}"))
    assert texts.REFERRAL_THANKS in resident.text()
    assert "Câu 1/3" in resident.text(), "the profile question is asked again"
    assert _referred_by(repository, "res-2") == volunteer


# -- codes typed on Zalo (no deep links there) --------------------------------------------------


def test_zalo_code_typed_first_then_agreeing_with_it(repository: Repository) -> None:
    volunteer = _volunteer(repository)
    resident = Dialog(make_engine(repository), "zalo-1", channel="zalo")
    resident.send(Say(CODE))
    assert texts.REFERRAL_BEFORE_CONSENT.format(code=CODE) in resident.text()
    assert "Bạn có đồng ý không?" in resident.text()
    assert repository.load(LearnerKey("zalo", "zalo-1")) is None
    resident.send(Say(f"đồng ý {CODE.lower()}"))
    assert texts.CONSENT_THANKS in resident.text()
    assert texts.REFERRAL_THANKS in resident.text()
    assert _referred_by(repository, "zalo-1", "zalo") == volunteer


@pytest.mark.parametrize(
    "typed",
    [f"ref {CODE}", f"REF-{CODE}", f"mã giới thiệu {CODE}", "ma gioi thieu: k7qmpa", CODE],
)
def test_zalo_code_typed_after_consent_in_any_form(typed: str) -> None:
    memory = MemoryRepository()
    volunteer = _volunteer(memory)
    resident = Dialog(make_engine(memory), "zalo-2", channel="zalo")
    _consent(resident)
    resident.send(Say(typed))
    assert texts.REFERRAL_THANKS in resident.text()
    assert "Câu 1/3" in resident.text()
    assert _referred_by(memory, "zalo-2", "zalo") == volunteer


def test_zalo_code_typed_in_the_menu_is_recorded(repository: Repository) -> None:
    volunteer = _volunteer(repository)
    resident = Dialog(make_engine(repository), "zalo-3", channel="zalo")
    _consent(resident)
    resident.send(Say("1"))
    resident.send(Say("1"))
    resident.send(Press("Bỏ qua"))
    assert texts.MENU in resident.text()
    resident.send(Say(f"ref {CODE}"))
    assert texts.REFERRAL_THANKS in resident.text()
    assert texts.MENU in resident.text()
    assert _referred_by(repository, "zalo-3", "zalo") == volunteer


def test_a_bare_word_during_a_lesson_is_not_taken_for_a_code() -> None:
    memory = MemoryRepository()
    _volunteer(memory)
    resident = Dialog(make_engine(memory), "zalo-4", channel="zalo")
    _consent(resident)
    resident.send(Say("1"))
    resident.send(Say("1"))
    resident.send(Press("Bỏ qua"))
    resident.send(Press("Học tiếp"))
    assert "(1/" in resident.text()
    resident.send(Say(CODE))
    assert texts.REFERRAL_THANKS not in resident.text()
    assert _referred_by(memory, "zalo-4", "zalo") is None
    # Said explicitly, it counts on any step.
    resident.send(Say(f"ref {CODE}"))
    assert texts.REFERRAL_THANKS in resident.text()


# -- unknown, repeated and own codes ------------------------------------------------------------


def test_unknown_code_gets_a_polite_note_and_nothing_is_stored(repository: Repository) -> None:
    _volunteer(repository)
    resident = Dialog(make_engine(repository), "res-3", channel="zalo")
    resident.send(Say("ref ZZZZ99"))
    assert texts.REFERRAL_UNKNOWN.format(code="ZZZZ99") in resident.text()
    assert "Bạn có đồng ý không?" in resident.text()
    assert repository.load(LearnerKey("zalo", "res-3")) is None
    # A bare unknown word is simply a first message: the plain notice, no note.
    resident.send(Say("ZZZZ99"))
    assert "mã giới thiệu" not in resident.text()
    resident.send(Say("đồng ý"))
    assert _referred_by(repository, "res-3", "zalo") is None
    resident.send(Say("ref ZZZZ99"))
    assert texts.REFERRAL_UNKNOWN.format(code="ZZZZ99") in resident.text()
    assert _referred_by(repository, "res-3", "zalo") is None


def test_unknown_deep_link_code_is_noted_and_the_resident_still_enrols(
    repository: Repository,
) -> None:
    resident = Dialog(make_engine(repository), "res-4")
    resident.send(Say("/start ref-ZZZZ99"))
    assert texts.REFERRAL_UNKNOWN.format(code="ZZZZ99") in resident.text()
    assert repository.load(LearnerKey("test", "res-4")) is None
    resident.send(Press("Đồng ý"))
    assert "Câu 1/3" in resident.text()
    assert _referred_by(repository, "res-4") is None


def test_a_second_referral_does_not_overwrite_the_first(repository: Repository) -> None:
    first = _volunteer(repository, "vol-1", CODE)
    _volunteer(repository, "vol-2", OTHER)
    resident = Dialog(make_engine(repository), "res-5")
    resident.send(Say(f"/start ref-{CODE}"))
    resident.send(Press("Đồng ý"))
    resident.send(Say(f"ref {OTHER}"))
    assert texts.REFERRAL_ALREADY in resident.text()
    resident.send(Say(f"/start ref-{OTHER}"))
    assert texts.REFERRAL_ALREADY in resident.text()
    assert _referred_by(repository, "res-5") == first
    # Storage keeps the first referral even when a step asks to write another.
    snapshot = repository.load(LearnerKey("test", "res-5"))
    assert snapshot is not None
    second = _referrer_id(repository, OTHER)
    changes = Changes(snapshot.state, snapshot.data, referred_by=second)
    assert repository.apply(snapshot.learner_id, snapshot.version, changes)
    assert _referred_by(repository, "res-5") == first


def test_a_volunteer_cannot_refer_themself(repository: Repository) -> None:
    volunteer = _volunteer(repository, "vol-self", CODE)
    engine = make_engine(repository)
    # The volunteer's own chat (channel "telegram", as enrolled above).
    dialog = Dialog(engine, "vol-self", channel="telegram")
    dialog.send(Say(f"ref {CODE}"))
    assert texts.REFERRAL_SELF in dialog.text()
    dialog.send(Say(f"/start ref-{CODE}"))
    assert texts.REFERRAL_SELF in dialog.text()
    assert _referred_by(repository, "vol-self", "telegram") is None
    # Storage refuses it too.
    snapshot = repository.load(LearnerKey("telegram", "vol-self"))
    assert snapshot is not None
    changes = Changes(snapshot.state, snapshot.data, referred_by=volunteer)
    assert repository.apply(snapshot.learner_id, snapshot.version, changes)
    assert _referred_by(repository, "vol-self", "telegram") is None


def test_find_referrer_ignores_case_and_dashes(repository: Repository) -> None:
    volunteer = _volunteer(repository)
    assert repository.find_referrer(CODE) == volunteer
    assert repository.find_referrer("k7q-mpa") == volunteer
    assert repository.find_referrer("NOPE22") is None
    assert repository.find_referrer("") is None


def _referrer_id(repository: Repository, code: str) -> int:
    found = repository.find_referrer(code)
    assert found is not None
    return found


# -- the volunteer's referral screen ------------------------------------------------------------


def test_referral_screen_with_a_bot_username_has_the_link_code_and_qr() -> None:
    screen = referral.referral_screen("k7qmpa", "@hocvuso_xa_bot")
    link = "https://t.me/hocvuso_xa_bot?start=ref-K7QMPA"
    assert screen.link == link
    assert screen.image == f"qr:{link}"
    joined = "\n".join(screen.texts)
    assert link in joined
    assert f"ref {CODE}" in joined and f"Mã giới thiệu của bạn: {CODE}" in joined


def test_referral_screen_without_a_bot_username_shows_the_start_command() -> None:
    screen = referral.referral_screen(CODE, None)
    assert screen.link is None and screen.image is None
    joined = "\n".join(screen.texts)
    assert f"/start ref-{CODE}" in joined
    assert "t.me" not in joined
    assert f"ref {CODE}" in joined


def test_the_engine_hands_its_bot_username_to_every_step() -> None:
    memory = MemoryRepository()
    base = make_engine(memory)
    engine = Engine(
        memory,
        base._content,
        base._commune,
        base._assistant,
        bot_username="hocvuso_xa_bot",
    )
    assert engine._world().bot_username == "hocvuso_xa_bot"


def test_typed_code_parsing() -> None:
    assert referral.typed_code("ref k7qmpa") == referral.TypedCode(CODE, True)
    assert referral.typed_code("Mã GT: K7QMPA") == referral.TypedCode(CODE, True)
    assert referral.typed_code(" K7QMPA. ") == referral.TypedCode(CODE, False)
    assert referral.typed_code("xin chào") is None
    assert referral.typed_code("1950") is None
    assert referral.code_of_payload("ref-k7qmpa") == CODE
    assert referral.code_of_payload("thon-3") is None


# -- QR images on each channel ------------------------------------------------------------------


def _is_png_qr(data: bytes) -> None:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(io.BytesIO(data)) as image:
        assert image.width == image.height >= 200


def test_qr_png_and_data_uri() -> None:
    link = referral.link("hocvuso_xa_bot", CODE)
    _is_png_qr(qr.png(link))
    uri = qr.data_uri(link)
    assert uri.startswith("data:image/png;base64,")
    _is_png_qr(base64.b64decode(uri.removeprefix("data:image/png;base64,")))
    assert qr_text(qr_image(link)) == link
    assert qr_text("images/x.png") is None
    with pytest.raises(ValueError):
        qr.png("x" * 600)


def test_web_chat_inlines_the_qr_code_and_leaves_other_images_alone() -> None:
    link = referral.link("hocvuso_xa_bot", CODE)
    out = _out(Reply("Quét mã này", image=qr_image(link)))
    assert out.image is not None and out.image.startswith("data:image/png;base64,")
    assert _out(Reply("x", image="https://example.vn/a.png")).image == "https://example.vn/a.png"


def test_zalo_sends_the_qr_codes_text_instead_of_a_picture() -> None:
    link = referral.link("hocvuso_xa_bot", CODE)
    plain = _qr_in_words(Reply("Mời bạn học", image=qr_image(link)))
    assert numbered(plain).endswith(link)
    already = Reply(f"Link: {link}", image=qr_image(link))
    assert _qr_in_words(already) is already


@pytest.fixture
async def telegram() -> AsyncIterator[tuple[TelegramChannel, FakeTelegram]]:
    with FakeTelegram() as fake:
        channel = TelegramChannel(make_engine(MemoryRepository()), fake.token, fake.base_url)
        await channel.start()
        try:
            yield channel, fake
        finally:
            await channel.stop()


async def test_telegram_uploads_a_qr_image_as_a_png_photo(
    telegram: tuple[TelegramChannel, FakeTelegram],
) -> None:
    channel, fake = telegram
    fake.send_message(91, "hi")
    screen = referral.referral_screen(CODE, fake.bot_username)
    assert screen.image is not None
    await channel.send(
        91,
        [Reply(text) for text in screen.texts[:-1]] + [Reply(screen.texts[-1], image=screen.image)],
    )
    uploads = fake.uploads(91)
    assert [u["kind"] for u in uploads] == ["photo"]
    _is_png_qr(uploads[0]["data"])
    assert uploads[0]["data"] == qr.png(f"https://t.me/{fake.bot_username}?start=ref-{CODE}")
    sent = fake.sent(91)
    assert "photo" in sent[-2] and sent[-1]["text"] == screen.texts[-1]


def test_bot_username_setting_drops_the_at_and_refuses_junk(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from server import PROJECT

    from hocvuso.settings import Settings, SettingsError, load_settings

    monkeypatch.chdir(PROJECT)
    monkeypatch.setenv("HOCVUSO_TELEGRAM_BOT_USERNAME", "@hocvuso_xa_bot")
    assert Settings().telegram_bot_username == "hocvuso_xa_bot"
    monkeypatch.setenv("HOCVUSO_TELEGRAM_BOT_USERNAME", "")
    assert Settings().telegram_bot_username is None
    monkeypatch.setenv("HOCVUSO_TELEGRAM_BOT_USERNAME", "t.me/x bot")
    with pytest.raises(SettingsError, match="HOCVUSO_TELEGRAM_BOT_USERNAME"):
        load_settings()
