"""The volunteer's menu: residents they help, assisted profiles, hands-on checks, referral.

A volunteer creates a profile for a resident who has no phone or cannot type (a nickname,
group, hamlet, birth year; consent asked aloud and recorded as given in person), then
"learns with" them: the engine routes the volunteer's messages to the resident's own
conversation (see `Engine._assist`), and every step written there names the volunteer as
helper. Hands-on checks are skills the volunteer saw the resident do themself.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Mapping

from bot.content import TARGET_GROUPS
from bot.engine import referral, texts
from bot.engine.choices import Choice
from bot.engine.flow import Decision, Move, Outcome, Screen, Stay, Turn
from bot.engine.messages import Reply
from bot.engine.profile import NO_HAMLET, SKIP, group_screen
from bot.engine.states import State
from storage.records import AssistedProfile, CheckSignOff, Profile, ResidentSummary

# Skills a volunteer can see a resident do; the last one is the official status.
PLATFORM_CONFIRMED = "platform_confirmed"
CHECKS: Mapping[str, str] = {
    "vneid_level2": "Đã cài VNeID và kích hoạt mức 2",
    "qr_transfer": "Đã tự chuyển khoản bằng mã QR",
    "zalo_2fa": "Đã bật xác thực hai bước cho Zalo",
    "dvc_online": "Đã tự nộp một hồ sơ dịch vụ công trực tuyến",
    PLATFORM_CONFIRMED: "Đã xác nhận trên VNeID / nền tảng Bình dân học vụ số",
}
REVISIT_AFTER = dt.timedelta(days=7)
NAME_MAX = 40
MAX_LISTED = 10
_DIGITS = re.compile(r"\d{5,}")
_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")

TOOLS = Choice("m.vol", texts.BTN_VOLUNTEER_TOOLS, ("viec tinh nguyen", "tinh nguyen"))
ADD = Choice("v.add", texts.BTN_ADD_RESIDENT, ("them", "them nguoi", "them nguoi duoc giup"))
LIST = Choice("v.list", texts.BTN_RESIDENTS, ("danh sach", "nguoi toi dang giup"))
REFERRAL = Choice("v.ref", texts.BTN_REFERRAL, ("link", "gioi thieu", "link gioi thieu"))
TO_MENU = Choice("v.menu", texts.BTN_BACK_TO_MENU, ("menu chinh", "ve menu"))
BACK = Choice("v.back", texts.BTN_BACK, ("quay lai", "tro lai"))
STUDY_WITH = Choice("v.study", texts.BTN_STUDY_WITH, ("hoc cung", "hoc"))
SIGN_OFF = Choice("v.checks", texts.BTN_SIGN_OFF, ("xac nhan", "ky nang"))
CONSENT_YES = Choice("v.yes", texts.BTN_CONSENT_IN_PERSON, ("da hoi", "dong y", "co"))
CONSENT_NO = Choice("v.no", texts.BTN_CONSENT_NOT_YET, ("chua", "khong", "ko"))
LEAVE = Choice("me.back", texts.BTN_LEAVE_ASSISTING, ("ve tai khoan cua toi", "thoat"))
LEAVE_WORDS = frozenset({"ve tai khoan cua toi", "thoat hoc cung", "xong ve tai khoan cua toi"})


def tools_screen(turn: Turn) -> Screen:
    """The volunteer's own menu."""
    org = turn.learner.volunteer.org if turn.learner.volunteer else ""
    return Screen((texts.VOLUNTEER_MENU.format(org=org),), (ADD, LIST, REFERRAL, TO_MENU))


def handle_tools(turn: Turn, choice: Choice | None, text: str | None) -> Decision:
    """Follow the volunteer's menu choice."""
    if choice is ADD:
        return Move(State.ASSIST_NAME)
    if choice is LIST:
        return Move(State.RESIDENTS)
    if choice is REFERRAL:
        return Outcome([*referral_replies(turn), *tools_screen(turn).replies()])
    if choice is TO_MENU:
        return Move(State.MENU)
    return Stay((texts.UNKNOWN,))


def referral_replies(turn: Turn) -> list[Reply]:
    """The volunteer's referral link, its QR code and the code to type on Zalo."""
    volunteer = turn.learner.volunteer
    if volunteer is None:
        return [Reply(texts.REFERRAL_NOT_VOLUNTEER)]
    screen = referral.referral_screen(volunteer.referral_code, turn.world.bot_username)
    replies = [Reply(text) for text in screen.texts]
    replies[-1] = Reply(screen.texts[-1], image=screen.image)
    return replies


# -- a resident's new profile -------------------------------------------------------------


def name_screen(turn: Turn) -> Screen:
    """Ask the resident's nickname."""
    return Screen((texts.ASK_RESIDENT_NAME,), (BACK,))


def handle_name(turn: Turn, choice: Choice | None, text: str | None) -> Decision:
    """Take a short nickname without long numbers (no ID or phone numbers)."""
    if choice is BACK:
        return Move(State.VOLUNTEER)
    name = " ".join((text or "").split())
    if not name or len(name) > NAME_MAX or _DIGITS.search(name):
        return Stay((texts.RESIDENT_NAME_INVALID,))
    return Move(State.ASSIST_GROUP, {"name": name})


def assist_group_screen(turn: Turn) -> Screen:
    """Ask the resident's target group."""
    choices = group_screen(turn).choices
    return Screen((texts.ASSIST_GROUP.format(name=_name(turn)),), choices)


def handle_assist_group(turn: Turn, choice: Choice | None, text: str | None) -> Decision:
    """Record the group, then ask the hamlet."""
    group = choice.id.removeprefix("g.") if choice else None
    if group not in TARGET_GROUPS:
        return Stay((texts.UNKNOWN,))
    return Move(State.ASSIST_HAMLET, {**turn.data, "group": group})


def assist_hamlet_screen(turn: Turn) -> Screen:
    """Ask the resident's hamlet."""
    hamlets = tuple(Choice(f"h.{h.id}", h.name, h.aliases) for h in turn.world.commune.hamlets)
    return Screen((texts.ASSIST_HAMLET.format(name=_name(turn)),), (*hamlets, NO_HAMLET))


def handle_assist_hamlet(turn: Turn, choice: Choice | None, text: str | None) -> Decision:
    """Record the hamlet, then ask the birth year."""
    if choice is None:
        return Stay((texts.ASK_HAMLET_AGAIN,))
    hamlet = None if choice is NO_HAMLET else choice.id.removeprefix("h.")
    return Move(State.ASSIST_BIRTH_YEAR, {**turn.data, "hamlet": hamlet})


def assist_birth_year_screen(turn: Turn) -> Screen:
    """Ask the resident's birth year (optional)."""
    return Screen((texts.ASSIST_BIRTH_YEAR.format(name=_name(turn)),), (SKIP,))


def handle_assist_birth_year(turn: Turn, choice: Choice | None, text: str | None) -> Decision:
    """Record a plausible birth year or skip, then ask for consent in person."""
    if choice is SKIP:
        return Move(State.ASSIST_CONSENT, {**turn.data, "year": None})
    found = _YEAR.search(text or "")
    year = int(found.group(1)) if found else None
    if year is None or not 1900 <= year <= turn.world.today.year - 3:
        return Stay((texts.BIRTH_YEAR_INVALID,))
    return Move(State.ASSIST_CONSENT, {**turn.data, "year": year})


def assist_consent_screen(turn: Turn) -> Screen:
    """Have the volunteer read the notice aloud and record the answer."""
    return Screen((texts.ASSIST_CONSENT.format(name=_name(turn)),), (CONSENT_YES, CONSENT_NO))


def handle_assist_consent(turn: Turn, choice: Choice | None, text: str | None) -> Decision:
    """Create the resident (consent in person) and start learning with them, or store nothing."""
    if choice is CONSENT_NO:
        return Move(State.VOLUNTEER, before=(texts.ASSIST_NOT_CONSENTED,))
    if choice is not CONSENT_YES:
        return Stay((texts.UNKNOWN,))
    data = turn.data
    name = _name(turn)
    year = data.get("year")
    profile = Profile(
        target_group=str(data.get("group")),
        hamlet_id=data.get("hamlet"),
        birth_year=year if isinstance(year, int) else None,
    )
    token = uuid.uuid4().hex
    new = AssistedProfile(token, name, profile, turn.world.privacy_version, State.MENU.value)
    return Move(
        State.ASSISTING,
        {"token": token, "name": name},
        before=(texts.ASSIST_CREATED.format(name=name),),
        assisted_new=new,
    )


# -- the residents a volunteer helps ------------------------------------------------------


def needs_revisit(resident: ResidentSummary, today: dt.date) -> bool:
    """No lesson in the last week (or none at all): worth a visit."""
    if resident.last_active is None:
        return True
    return resident.last_active.date() <= today - REVISIT_AFTER


def residents_screen(turn: Turn) -> Screen:
    """The residents this volunteer helps, with progress and who needs a revisit."""
    residents = turn.residents[:MAX_LISTED]
    if not residents:
        return Screen((texts.RESIDENTS_NONE,), (ADD, BACK))
    lines = [texts.RESIDENTS_HEAD]
    choices = []
    for number, resident in enumerate(residents, 1):
        lines.append(
            texts.RESIDENT_LINE.format(
                number=number,
                name=resident.nickname,
                done=resident.completed,
                checks=texts.RESIDENT_CHECKS.format(count=len(resident.checks))
                if resident.checks
                else "",
                revisit=texts.RESIDENT_REVISIT if needs_revisit(resident, turn.world.today) else "",
            )
        )
        choices.append(Choice(f"r.{resident.learner_id}", resident.nickname))
    return Screen(("\n".join(lines),), (*choices, BACK))


def handle_residents(turn: Turn, choice: Choice | None, text: str | None) -> Decision:
    """Open one resident, or go back."""
    if choice is BACK:
        return Move(State.VOLUNTEER)
    if choice is ADD:
        return Move(State.ASSIST_NAME)
    if choice is None or not choice.id.startswith("r."):
        return Stay((texts.UNKNOWN,))
    return Move(State.RESIDENT, {"rid": int(choice.id.removeprefix("r."))})


def resident_screen(turn: Turn) -> Screen:
    """One resident: learn with them or sign off their skills."""
    resident = _resident(turn)
    if resident is None:
        return Screen((texts.ASSIST_GONE,), (BACK,))
    revisit = texts.RESIDENT_DETAIL_REVISIT if needs_revisit(resident, turn.world.today) else ""
    text = texts.RESIDENT_DETAIL.format(
        name=resident.nickname, done=resident.completed, revisit=revisit
    )
    return Screen((text,), (STUDY_WITH, SIGN_OFF, BACK))


def handle_resident(turn: Turn, choice: Choice | None, text: str | None) -> Decision:
    """Start learning with the resident, or open their checks."""
    resident = _resident(turn)
    if choice is BACK or resident is None:
        return Move(State.RESIDENTS)
    if choice is STUDY_WITH:
        return Move(State.ASSISTING, {"token": resident.token, "name": resident.nickname})
    if choice is SIGN_OFF:
        return Move(State.CHECKS, dict(turn.data))
    return Stay((texts.UNKNOWN,))


def checks_screen(turn: Turn) -> Screen:
    """The resident's hands-on checks: signed off, and buttons for the rest."""
    resident = _resident(turn)
    if resident is None:
        return Screen((texts.ASSIST_GONE,), (BACK,))
    lines = "\n".join(
        (texts.CHECK_DONE_LINE if check in resident.checks else texts.CHECK_TODO_LINE).format(
            label=label
        )
        for check, label in CHECKS.items()
    )
    todo = tuple(
        Choice(f"c.{check}", label)
        for check, label in CHECKS.items()
        if check not in resident.checks
    )
    text = texts.CHECKS_HEAD.format(name=resident.nickname, lines=lines)
    return Screen((text,), (*todo, BACK))


def handle_checks(turn: Turn, choice: Choice | None, text: str | None) -> Decision:
    """Sign off one check the volunteer saw the resident do."""
    resident = _resident(turn)
    if choice is BACK or resident is None:
        return Move(State.RESIDENT, dict(turn.data))
    check = choice.id.removeprefix("c.") if choice else ""
    if check not in CHECKS:
        return Stay((texts.UNKNOWN,))
    confirmed = turn.world.today if check == PLATFORM_CONFIRMED else None
    said = [texts.CHECK_SIGNED.format(label=CHECKS[check])]
    if check == PLATFORM_CONFIRMED:
        said.append(texts.CHECK_PLATFORM_NOTE)
    return Move(
        State.CHECKS,
        dict(turn.data),
        before=tuple(said),
        check_signoffs=(CheckSignOff(resident.learner_id, check, confirmed),),
    )


def assisting_screen(turn: Turn) -> Screen:
    """Shown to the volunteer while learning with a resident."""
    name = _name(turn)
    return Screen((texts.ASSISTING_HINT.format(name=name),), (LEAVE,))


def handle_assisting(turn: Turn, choice: Choice | None, text: str | None) -> Decision:
    """Leave the resident's conversation (the engine routes everything else to it)."""
    return Move(State.VOLUNTEER, before=(texts.ASSIST_DONE.format(name=_name(turn)),))


def _name(turn: Turn) -> str:
    return str(turn.data.get("name", ""))


def _resident(turn: Turn) -> ResidentSummary | None:
    rid = turn.data.get("rid")
    return next((r for r in turn.residents if r.learner_id == rid), None)
