"""Plain records exchanged between the conversation engine and any storage backend.

They carry no ORM and no engine semantics: a conversation state is a name and a JSON payload,
so storage never needs to import the bot (dependencies point storage <- bot).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


@dataclass(frozen=True, slots=True)
class LearnerKey:
    """Who is talking: a chat on one channel (like aiogram's StorageKey, small and frozen)."""

    channel: str
    chat_id: str


@dataclass(frozen=True, slots=True)
class Profile:
    """The three answers the statistics need, and nothing more."""

    target_group: str | None = None
    hamlet_id: str | None = None
    birth_year: int | None = None


class EventKind(StrEnum):
    """What happened in a learner's progress through a lesson."""

    LESSON_STARTED = "lesson_started"
    LESSON_READ = "lesson_read"
    QUIZ_STARTED = "quiz_started"
    QUIZ_PASSED = "quiz_passed"
    QUIZ_FAILED = "quiz_failed"


@dataclass(frozen=True, slots=True)
class ProgressEvent:
    """One step of progress to append to the learner's history."""

    lesson_id: str
    kind: EventKind
    score: int | None = None
    total: int | None = None


@dataclass(frozen=True, slots=True)
class QuizAnswer:
    """One answer to one quiz question, kept so authors can see which options mislead."""

    lesson_id: str
    question_id: str
    attempt: int
    correct: bool
    option_index: int | None = None
    raw_text: str | None = None


@dataclass(frozen=True, slots=True)
class AskedQuestion:
    """A question put to the assistant: folded text, the topic answered (if any). No learner."""

    text: str
    topic: str | None
    answered: bool


@dataclass(frozen=True, slots=True)
class Consent:
    """A learner's consent to the privacy notice of a given version."""

    version: str
    method: str = "self"


@dataclass(frozen=True, slots=True)
class LearnerSnapshot:
    """Everything the engine needs to decide the next step, read in one go."""

    learner_id: int
    key: LearnerKey
    profile: Profile
    state: str
    data: Mapping[str, Any]
    version: int
    completed_lessons: frozenset[str] = frozenset()
    quiz_attempts: Mapping[str, int] = field(default_factory=dict)
    start_payload: str | None = None
    # Set when the learner joined as a volunteer (an invite code).
    volunteer: VolunteerInfo | None = None
    # For a resident a volunteer helps: the nickname the volunteer gave them.
    nickname: str | None = None
    # The code of the learner's certificate, once completing the core path issued one.
    certificate_code: str | None = None
    # Every question scheduled for review, due or not (the engine's clock decides which are
    # due), ordered by due time, then lesson and question id.
    reviews: tuple[Review, ...] = ()
    # When the next weekly reminder is due (UTC); None when the learner has not opted in.
    reminder_at: dt.datetime | None = None
    # The volunteer (a learner id) whose referral link or code brought this learner.
    referred_by: int | None = None
    # Whether a step answering the platform update `load` was asked about is already written.
    update_applied: bool = False


@dataclass(frozen=True, slots=True)
class Changes:
    """What one step of the conversation writes, applied atomically or not at all."""

    state: str
    data: Mapping[str, Any]
    profile: Profile | None = None
    events: tuple[ProgressEvent, ...] = ()
    answers: tuple[QuizAnswer, ...] = ()
    # The platform update this step answers: written in the same transaction, so a
    # redelivered update is recognised and never applied twice.
    update_id: str | None = None
    # A deep-link payload (`/start <payload>`) to record on the learner; None keeps the old one.
    start_payload: str | None = None
    # A free-text question to log anonymously, so officials can list the unanswered ones.
    asked: AskedQuestion | None = None
    # Volunteers: joining with an invite, a resident's new profile, signed-off checks, and
    # the volunteer who ran this step with the learner (stamped on the step's events).
    volunteer_join: VolunteerJoin | None = None
    assisted_new: AssistedProfile | None = None
    check_signoffs: tuple[CheckSignOff, ...] = ()
    helper_id: int | None = None
    # The certificate earned by this step (completing the core path), at most one per learner.
    certificate: CertificateIssue | None = None
    # Review schedule: questions to (re)schedule or drop, applied in order.
    reviews: tuple[ReviewChange, ...] = ()
    # Weekly reminders: turn them on (first one due at `next_at`) or off.
    reminder: ReminderChange | None = None
    # The volunteer who referred this learner (a learner id): written only if none is
    # recorded yet (the first referral wins) and never the learner themself.
    referred_by: int | None = None


@dataclass(frozen=True, slots=True)
class CertificateIssue:
    """A certificate to issue: its code and what it shows (no name, no chat, no learner id)."""

    code: str
    target_group: str
    hamlet_id: str | None
    issued_on: dt.date
    lessons: tuple[str, ...]  # lesson ids of the core path, in teaching order
    initials: str | None = None


@dataclass(frozen=True, slots=True)
class VolunteerInfo:
    """A volunteer's organisation and the referral code residents can type or follow."""

    org: str
    referral_code: str


@dataclass(frozen=True, slots=True)
class VolunteerInvite:
    """A valid invite code's organisation."""

    invite_id: int
    org: str


@dataclass(frozen=True, slots=True)
class VolunteerJoin:
    """The learner becomes a volunteer of `org` (the referral code is made on writing)."""

    invite_id: int
    org: str


@dataclass(frozen=True, slots=True)
class AssistedProfile:
    """A resident's profile created by a volunteer, consent given in person."""

    token: str  # the resident's opaque chat id on the "assisted" channel
    nickname: str
    profile: Profile
    consent_version: str
    state: str


@dataclass(frozen=True, slots=True)
class CheckSignOff:
    """A hands-on skill a volunteer saw a resident do; `confirmed_on` for the platform status."""

    learner_id: int
    check_id: str
    confirmed_on: dt.date | None = None


@dataclass(frozen=True, slots=True)
class ResidentSummary:
    """One resident a volunteer helps, for the volunteer's list."""

    learner_id: int
    token: str
    nickname: str
    completed: int
    last_active: dt.datetime | None
    checks: frozenset[str]


@dataclass(frozen=True, slots=True)
class Review:
    """A quiz question a learner got wrong, due again at `due_at` (aware UTC)."""

    lesson_id: str
    question_id: str
    due_at: dt.datetime
    interval_days: int = 1


@dataclass(frozen=True, slots=True)
class ReviewChange:
    """Schedule a question for review at `due_at`, or drop it from review when None."""

    lesson_id: str
    question_id: str
    due_at: dt.datetime | None
    interval_days: int = 1


@dataclass(frozen=True, slots=True)
class ReminderChange:
    """Weekly reminders on (the first one due at `next_at`, UTC) or off (`next_at` None)."""

    next_at: dt.datetime | None


def replay(schedule: dict[tuple[str, str], Review], changes: Iterable[ReviewChange]) -> None:
    """Apply review changes in order to an in-memory schedule keyed by (lesson, question)."""
    for change in changes:
        key = (change.lesson_id, change.question_id)
        if change.due_at is None:
            schedule.pop(key, None)
        else:
            schedule[key] = Review(*key, change.due_at, change.interval_days)


def ordered(schedule: Mapping[tuple[str, str], Review]) -> tuple[Review, ...]:
    """The schedule in the order `load_reviews` reads it: due time, lesson, question."""
    return tuple(sorted(schedule.values(), key=lambda r: (r.due_at, r.lesson_id, r.question_id)))
