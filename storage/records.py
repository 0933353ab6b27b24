"""Plain records exchanged between the conversation engine and any storage backend.

They carry no ORM and no engine semantics: a conversation state is a name and a JSON payload,
so storage never needs to import the bot (dependencies point storage <- bot).
"""

from __future__ import annotations

from collections.abc import Mapping
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
