"""Referrals: a volunteer's link, QR code and typed code, and residents arriving through them.

A volunteer's referral code (six characters, upper case, e.g. "K7QMPA") reaches a resident
in three ways:

- Telegram: the link `https://t.me/<bot>?start=ref-<code>` (or its QR code) sends
  `/start ref-<code>`, before or after consent.
- Zalo and the web chat, which cannot open such links: the code typed as a message, in an
  explicit form ("ref K7QMPA", "REF-K7QMPA", "mã giới thiệu K7QMPA") at any step, or bare
  ("K7QMPA") as the first message before consent and on steps where a bare word cannot be an
  answer (profile questions, menu, questions to the assistant). A bare word counts only when
  it is a known code, so an unlucky word is never mistaken for one; on quiz and review steps
  a bare word is always an answer.

Nothing is stored before consent: the code rides on the "Đồng ý" button as the deep-link
payload `ref-<code>`, and a typed "đồng ý K7QMPA" agrees and brings the code in one message.
A learner's referrer is written once (the first referral wins), never themself; unknown codes
get a polite note and change nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.engine import texts
from bot.engine.choices import Choice, match_choice
from bot.engine.messages import qr_image
from bot.engine.states import State
from bot.textnorm import fold
from storage.records import LearnerSnapshot

PAYLOAD_PREFIX = "ref-"
_CODE = r"([a-z0-9]{4,16})"
_PAYLOAD = re.compile(r"^ref[-_]?([A-Za-z0-9]{4,16})$", re.IGNORECASE)
# Over folded text: lower case, no diacritics, punctuation (the dash of "REF-") as spaces.
_EXPLICIT = re.compile(rf"^(?:ref\s*|(?:ma\s+)?gioi\s+thieu\s+|ma\s+gt\s+){_CODE}$")
_BARE = re.compile(r"^[a-z0-9]{6}$")
_TRAILING = re.compile(rf"^(.+?)\s+(ref\s*|(?:ma\s+)?gioi\s+thieu\s+|ma\s+gt\s+)?{_CODE}$")
# Steps where a bare code cannot be meant as an answer (quiz answers may be any word).
BARE_CODE_STATES = frozenset(
    {State.PROFILE_GROUP, State.PROFILE_HAMLET, State.PROFILE_BIRTH_YEAR, State.MENU, State.ASK}
)


@dataclass(frozen=True, slots=True)
class TypedCode:
    """A referral code found in a typed message; `explicit` when introduced by "ref" etc."""

    code: str
    explicit: bool


@dataclass(frozen=True, slots=True)
class ReferralScreen:
    """What a volunteer's referral screen shows: texts, and the QR code image if any."""

    texts: tuple[str, ...]
    image: str | None
    link: str | None


def payload(code: str) -> str:
    """The deep-link payload for a referral code: `ref-<code>`."""
    return f"{PAYLOAD_PREFIX}{code.upper()}"


def code_of_payload(start_payload: str | None) -> str | None:
    """The referral code in a deep-link payload (`ref-K7QMPA`), upper case, if it is one."""
    found = _PAYLOAD.match(start_payload or "")
    return found.group(1).upper() if found else None


def typed_code(text: str | None) -> TypedCode | None:
    """A referral code typed as a message: explicit ("ref K7QMPA") or bare ("K7QMPA")."""
    folded = fold(text or "")
    explicit = _EXPLICIT.match(folded)
    if explicit:
        return TypedCode(explicit.group(1).upper(), True)
    if _BARE.match(folded):
        return TypedCode(folded.upper(), False)
    return None


def agreement_with_code(
    text: str | None, choices: tuple[Choice, ...], agree: Choice
) -> TypedCode | None:
    """The code in a typed "đồng ý K7QMPA" (or "1 K7QMPA"): agreeing and referred at once."""
    found = _TRAILING.match(fold(text or ""))
    if not found or match_choice(found.group(1), choices) is not agree:
        return None
    return TypedCode(found.group(3).upper(), found.group(2) is not None)


def link(bot_username: str, code: str) -> str:
    """The Telegram deep link that opens the bot with `/start ref-<code>`."""
    return f"https://t.me/{bot_username.lstrip('@')}?start={payload(code)}"


def referral_screen(code: str, bot_username: str | None) -> ReferralScreen:
    """A volunteer's referral screen: the Telegram link and its QR code, the code for Zalo.

    Without a bot username the link cannot be written, so the screen shows the `/start`
    command to send instead, and no QR code.
    """
    code = code.upper()
    zalo = texts.REFERRAL_ZALO.format(code=code)
    if not bot_username:
        telegram = texts.REFERRAL_TELEGRAM_COMMAND.format(command=f"/start {payload(code)}")
        return ReferralScreen((texts.REFERRAL_INTRO, telegram, zalo), None, None)
    url = link(bot_username, code)
    telegram = texts.REFERRAL_TELEGRAM_LINK.format(link=url)
    return ReferralScreen((texts.REFERRAL_INTRO, telegram, zalo), qr_image(url), url)


def outcome(
    learner: LearnerSnapshot, code: str, referrer: int | None
) -> tuple[tuple[str, ...], int | None]:
    """For an enrolled learner: what to say, and the referrer to record (None: nothing)."""
    if referrer is None:
        return (texts.REFERRAL_UNKNOWN.format(code=code),), None
    if referrer == learner.learner_id:
        return (texts.REFERRAL_SELF,), None
    if learner.referred_by is not None:
        return (texts.REFERRAL_ALREADY,), None
    return (texts.REFERRAL_THANKS,), referrer
