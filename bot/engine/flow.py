"""The pieces every step of the conversation is built from: a turn, a screen, an outcome."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.commune import Commune
from bot.content import Content
from bot.engine.choices import Choice
from bot.engine.messages import Button, Reply
from bot.engine.states import State
from storage.records import (
    AskedQuestion,
    AssistedProfile,
    CertificateIssue,
    Changes,
    CheckSignOff,
    LearnerSnapshot,
    Profile,
    ProgressEvent,
    QuizAnswer,
    ReminderChange,
    ResidentSummary,
    ReviewChange,
    VolunteerJoin,
)


@dataclass(frozen=True, slots=True)
class Suggestion:
    """The assistant's best guess: a topic, an answer text and the related lesson, if any."""

    topic: str
    answer: str
    lesson_id: str | None
    score: float
    id: str = ""


class Assistant(Protocol):
    """Answers a learner's free-text question, or admits it is not sure (returns None)."""

    def suggest(self, question: str) -> Suggestion | None:
        """The best answer, or None below the confidence threshold."""
        ...

    def closest_topics(self, question: str, limit: int = 3) -> list[str]:
        """Topic ids nearest to the question, best first, for a "did you mean" list."""
        ...

    def answer_in_topic(self, question: str, topic: str) -> Suggestion | None:
        """The best answer within one topic, once the learner has picked the topic."""
        ...

    def topic_title(self, topic: str) -> str:
        """The Vietnamese title of a topic."""
        ...


@dataclass(frozen=True, slots=True)
class World:
    """What the engine knows besides the learner: content, commune, assistant, the date."""

    content: Content
    commune: Commune
    assistant: Assistant
    today: dt.date
    privacy_version: str = "2026-01"
    # The current instant (UTC), for schedules such as weekly reminders.
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    # The service's public address (HOCVUSO_PUBLIC_URL), where certificates can be checked.
    public_url: str | None = None
    # The Telegram bot's username (HOCVUSO_TELEGRAM_BOT_USERNAME), for referral links.
    bot_username: str | None = None


@dataclass(frozen=True, slots=True)
class Turn:
    """One learner's message being handled: who they are and where they stand."""

    world: World
    learner: LearnerSnapshot
    # For a volunteer: the residents they help (loaded by the engine), else empty.
    residents: tuple[ResidentSummary, ...] = ()

    @property
    def state(self) -> State:
        """The learner's current step."""
        return State(self.learner.state)

    @property
    def data(self) -> Mapping[str, Any]:
        """The current step's details (lesson id, card number, quiz score, ...)."""
        return self.learner.data


@dataclass(frozen=True, slots=True)
class Screen:
    """What a step shows: messages, with the step's choices under the last one."""

    texts: tuple[str, ...]
    choices: tuple[Choice, ...] = ()
    image: str | None = None

    def replies(self) -> list[Reply]:
        """Render as replies with local button ids (the engine stamps the version on them)."""
        buttons = tuple(Button(c.id, c.label) for c in self.choices)
        out = [Reply(text) for text in self.texts[:-1]]
        out.append(Reply(self.texts[-1], buttons, self.image))
        return out


@dataclass(frozen=True, slots=True)
class Outcome:
    """A step's decision: what to answer and what to write (None writes nothing)."""

    replies: list[Reply]
    changes: Changes | None = None
    delete: bool = False


@dataclass(frozen=True, slots=True)
class Stay:
    """Keep the learner on the current step, writing nothing; say `before` first."""

    before: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Move:
    """A request to go to a step, with what to say first and what to record."""

    state: State
    data: Mapping[str, Any] = field(default_factory=dict)
    before: tuple[str, ...] = ()
    profile: Profile | None = None
    events: tuple[ProgressEvent, ...] = ()
    answers: tuple[QuizAnswer, ...] = ()
    start_payload: str | None = None
    asked: AskedQuestion | None = None
    volunteer_join: VolunteerJoin | None = None
    assisted_new: AssistedProfile | None = None
    check_signoffs: tuple[CheckSignOff, ...] = ()
    # Questions to (re)schedule for review or drop; wrong quiz answers are added by the engine.
    reviews: tuple[ReviewChange, ...] = ()
    # Weekly reminders turned on or off by this step.
    reminder: ReminderChange | None = None
    # The certificate this step earns (the quiz that completes the core path).
    certificate: CertificateIssue | None = None
    # The volunteer (a learner id) who referred this learner; storage keeps the first one.
    referred_by: int | None = None


Decision = Move | Stay | Outcome
