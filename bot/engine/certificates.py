"""The certificate for completing a group's core path: when it is earned, what the bot says.

The quiz that completes the core path (`bot.paths.core_path`, the definition the officials'
figures use) earns the certificate; it is written in that quiz's step, so it exists exactly
when the step does. The learner gets a code and, where the service has a public address, the
address to check it; channels send the picture where they can (`image_path`).
"""

from __future__ import annotations

import re

from bot.content import TARGET_GROUPS, Content
from bot.engine import texts
from bot.engine.flow import Turn
from bot.paths import core_path
from storage.certcode import display_code, new_code
from storage.records import CertificateIssue

CERTIFICATES_PATH = "/api/v1/certificates"
_IMAGE = re.compile(rf"^{re.escape(CERTIFICATES_PATH)}/([A-Za-z0-9-]+)\.png$")
# Forms of address a volunteer may put before a resident's name ("bà Tư"): not initials.
_HONORIFICS = frozenset(
    [
        "ông",
        "bà",
        "cô",
        "chú",
        "bác",
        "anh",
        "chị",
        "em",
        "cụ",
        "cháu",
        "dì",
        "dượng",
        "thím",
        "mợ",
        "cậu",
        "bạn",
    ]
)
# Words after which a nickname names a place, not the person ("bà Tư xóm 3").
_PLACES = frozenset(["xóm", "thôn", "bản", "ấp", "tổ", "khu", "làng", "buôn", "bon", "sóc"])
_MAX_INITIALS = 4


def verify_path(code: str) -> str:
    """The site path where anyone can check the certificate with this code."""
    return f"{CERTIFICATES_PATH}/{code}"


def image_path(code: str) -> str:
    """The site path of the certificate's picture (PNG)."""
    return f"{CERTIFICATES_PATH}/{code}.png"


def code_in_image(image: str) -> str | None:
    """The certificate code if `image` is a certificate picture's path, else None."""
    found = _IMAGE.match(image)
    return found.group(1) if found else None


def initials_of(nickname: str | None) -> str | None:
    """Initials from a volunteer-given nickname ("bà Tư" -> "T."), None when there are none."""
    letters: list[str] = []
    for word in (nickname or "").split():
        lowered = word.lower()
        if lowered in _PLACES:
            break
        if lowered in _HONORIFICS or not word[0].isalpha():
            continue
        letters.append(word[0].upper() + ".")
    return "".join(letters[:_MAX_INITIALS]) or None


def group_label(group: str) -> str:
    """The Vietnamese name of a target group."""
    return TARGET_GROUPS.get(group, group)


def core_lessons(content: Content, group: str) -> tuple[str, ...]:
    """The ids of the group's core lessons, in teaching order."""
    core = core_path(content, group)
    ordered = [lesson_id for lesson_id in content.lessons if lesson_id in core]
    return (*ordered, *sorted(core - set(ordered)))


def earned(turn: Turn, passed_lesson: str) -> CertificateIssue | None:
    """The certificate earned by passing this lesson's quiz, if it completes the core path."""
    learner = turn.learner
    group = learner.profile.target_group
    if learner.certificate_code is not None or group is None:
        return None
    core = core_path(turn.world.content, group)
    if not core or not core <= learner.completed_lessons | {passed_lesson}:
        return None
    return CertificateIssue(
        code=new_code(),
        target_group=group,
        hamlet_id=learner.profile.hamlet_id,
        issued_on=turn.world.today,
        lessons=core_lessons(turn.world.content, group),
        initials=initials_of(learner.nickname),
    )


def earned_text(turn: Turn, code: str) -> str:
    """Congratulations, the code, where to check it, and what the certificate is not."""
    group = group_label(turn.learner.profile.target_group or "")
    parts = [texts.CERTIFICATE_EARNED.format(group=group, code=display_code(code))]
    if turn.world.public_url:
        url = turn.world.public_url + verify_path(code)
        parts.append(texts.CERTIFICATE_CHECK_AT.format(url=url))
    else:
        parts.append(texts.CERTIFICATE_CHECK_CODE)
    parts.append(texts.CERTIFICATE_NOT_OFFICIAL)
    return "\n\n".join(parts)
