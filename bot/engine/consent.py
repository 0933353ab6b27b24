"""First contact: the privacy notice, and nothing stored until the learner agrees."""

from __future__ import annotations

from bot.engine import texts
from bot.engine.choices import Choice
from bot.engine.flow import Screen

AGREE = Choice("ok", texts.BTN_AGREE, texts.AGREE_WORDS)
DECLINE = Choice("no", texts.BTN_DECLINE, texts.DECLINE_WORDS)
MORE = Choice("more", texts.BTN_MORE, ("doc them", "chi tiet", "xem them"))


# Callback data is at most 64 bytes: "0:ok." plus the payload must fit.
_MAX_BUTTON = 64


def notice_screen(lead: str | None = None, payload: str | None = None) -> Screen:
    """The short privacy notice with its three choices.

    After a deep link, "Đồng ý" carries the payload (nothing is stored before consent).
    """
    body = (lead,) if lead else ()
    agree = AGREE
    if payload and len(f"0:ok.{payload}".encode()) <= _MAX_BUTTON:
        agree = Choice(f"ok.{payload}", AGREE.label, AGREE.aliases)
    return Screen((*body, texts.PRIVACY_NOTICE), (agree, DECLINE, MORE))


def details_screen() -> Screen:
    """The longer explanation of what is stored, and why."""
    return Screen((texts.PRIVACY_DETAILS,), (AGREE, DECLINE))


def declined_screen() -> Screen:
    """A polite goodbye that leaves the door open."""
    return Screen((texts.CONSENT_DECLINED,), (AGREE, MORE))
