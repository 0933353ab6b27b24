"""A hand-built dataset for the statistics tests: every figure in them is counted from here.

The commune (tests/fixtures/stats/commune.yaml) has two hamlets:

    population   adult pupil official worker
    thon-mot         6     3        2      0
    thon-hai         4     0        1      5
    commune         10     3        3      5

and targets, in this order: official 100% by 2026-06-30; adult 20% by 2026-09-30; adult
over 50% by 2026-12-31; worker 60% by 2026-12-31; pupil 50% by 2027-06-30.

The content (tests/fixtures/stats/) has three lessons, so the core paths are:
adult and worker {a-otp, b-qr}; official {a-otp, c-vneid}; pupil {} (nobody completes it).

- a-otp: q1 single choice, option 2 (index 1) right of 3; q2 typed answer. Pass mark 1.
- b-qr: q1 single choice, option 1 (index 0) right of 4; q2 option 2 (index 1) right of 2.
  Pass mark 2.
- c-vneid: q1 single choice, option 2 (index 1) right of 2. Pass mark 1.

"Now" is NOW (2026-11-25 10:00 UTC, a Wednesday, 17:00 in Vietnam); 28 days earlier is
2026-10-28 10:00 UTC. Times below are UTC; Vietnam is seven hours ahead. Learners (group,
hamlet, created) and what they did:

    A1 adult thon-mot 09-01   a-otp passed 09-10 (q1 o1 ok, q2 ok);
                              b-qr passed 2026-09-30 16:59:59 (23:59:59 in VN: still Q3)
    A2 adult thon-mot 09-25   a-otp passed 09-30 03:00 (q1 o0 wrong, q2 ok);
                              b-qr passed 2026-11-22 16:00 (Sunday 23:00 in VN, week 47)
    A3 adult thon-hai 11-01   a-otp failed 11-02 02:00 (q1 o2 wrong, q2 wrong), passed 03:00
                              (q1 ok, q2 wrong); b-qr failed 11-03 (q1 o3 wrong, q2 ok),
                              passed 11-05
    A4 adult thon-mot 11-20   a-otp failed 11-21 (q1 o0 wrong, q2 wrong), passed
                              2026-11-22 18:00 (Monday 01:00 in VN, week 48); b-qr started
    A5 adult (no hamlet) 09-05  b-qr passed 09-06 (a-otp never: not certified)
    X1 adult thon-cu (not in the commune file) 10-10, no progress
    W1 worker thon-hai 10-20  a-otp passed 10-21; b-qr passed 2026-11-15 16:59:59 (Sunday
                              23:59:59 in VN, week 46)
    W2 worker thon-hai 11-01  a-otp passed 11-02 (q1 o0 wrong, q2 ok); b-qr failed 11-03
                              (q1 o2 wrong, q2 o0 wrong), passed 11-04
    W3 worker thon-hai 2026-11-22 18:00 (Monday in VN)  a-otp started 11-23
    O1 official thon-mot 03-01  a-otp passed 03-02; c-vneid passed 03-03
    O2 official thon-hai 05-01  a-otp passed 05-02 (q1 ok, q2 wrong); c-vneid failed 05-03
                                and 05-04 (o0 both times)
    P1 pupil thon-mot 11-24   a-otp passed 11-24 (q1 o2 wrong, q2 ok)
    G0 no group, no hamlet, 2026-11-22 16:30 (Sunday 23:30 in VN), no progress
    F1 adult thon-mot 2026-11-26 (after NOW)  a-otp and b-qr passed 11-26, answers wrong:
       everything about F1 lies after NOW and must be ignored as of NOW

Answers outside the content: 5 wrong answers to a-otp/q-old (a question since removed) and
6 wrong answers to old-lesson/q1 (a lesson since removed), with old-lesson events for A1.

question_log: "mat khau vneid" unanswered at 11-01, 11-20, 11-24 (and once answered);
"hoc phi" unanswered at 11-02, 11-03, 11-05; "cach nop phat nguoi" unanswered at
2026-11-10 18:30 (11-11 in Vietnam); "otp la gi" answered five times; "cau hoi tuong lai"
unanswered on 11-26, after NOW.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel

from bot.commune import Commune, load_commune
from bot.content import Content, load_content
from storage.models import QuestionLog
from storage.records import EventKind

FIXTURE_DIR = Path(__file__).resolve().parent / "fixtures" / "stats"
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)

_tables = SQLModel.metadata.tables
_learner = _tables["learner"]
_consent = _tables["consent"]
_event = _tables["progress_event"]
_answer = _tables["quiz_answer"]
_question = _tables[str(QuestionLog.__tablename__)]

# (question id, option index or None for a typed answer, correct)
Answer = tuple[str, int | None, bool]


def at(text: str) -> datetime:
    """A UTC instant written as "2026-11-22 18:00" (seconds optional)."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def day(text: str) -> datetime:
    """03:00 UTC (10:00 in Vietnam) on a day written as "2026-11-22": far from any boundary."""
    return at(f"{text} 03:00")


def load_stats_content() -> Content:
    """The three-lesson content tree of the dataset."""
    return load_content(FIXTURE_DIR)


def load_stats_commune() -> Commune:
    """The two-hamlet commune of the dataset."""
    return load_commune(FIXTURE_DIR / "commune.yaml")


@dataclass
class Dataset:
    """What the tests need to know about the inserted rows."""

    learner_ids: dict[str, int] = field(default_factory=dict)
    chat_ids: dict[str, str] = field(default_factory=dict)


class _Writer:
    def __init__(self, connection: Connection, dataset: Dataset) -> None:
        self.connection = connection
        self.dataset = dataset
        self.attempts: dict[tuple[str, str], int] = {}

    def learner(self, name: str, group: str | None, hamlet: str | None, created: datetime) -> None:
        """A consented learner, known to the tests by `name`."""
        chat_id = f"chat-{name}-7f3a9c"
        learner_id = self.connection.execute(
            sa.insert(_learner)
            .values(
                channel="telegram",
                chat_id=chat_id,
                target_group=group,
                hamlet_id=hamlet,
                birth_year=1970,
                created_at=created,
            )
            .returning(_learner.c.id)
        ).scalar_one()
        self.connection.execute(
            sa.insert(_consent).values(
                learner_id=learner_id, version="2025-07", method="self", given_at=created
            )
        )
        self.dataset.learner_ids[name] = learner_id
        self.dataset.chat_ids[name] = chat_id

    def event(self, name: str, lesson: str, kind: EventKind, when: datetime) -> None:
        """One progress event."""
        self.connection.execute(
            sa.insert(_event).values(
                learner_id=self.dataset.learner_ids[name],
                lesson_id=lesson,
                kind=kind.value,
                created_at=when,
            )
        )

    def answer(self, name: str, lesson: str, answer: Answer, attempt: int, when: datetime) -> None:
        """One quiz answer; typed answers get a raw text, as the engine stores it."""
        question, option, correct = answer
        self.connection.execute(
            sa.insert(_answer).values(
                learner_id=self.dataset.learner_ids[name],
                lesson_id=lesson,
                question_id=question,
                attempt=attempt,
                option_index=option,
                correct=correct,
                raw_text=None if option is not None else "156" if correct else "113",
                created_at=when,
            )
        )

    def start(self, name: str, lesson: str, when: datetime) -> None:
        """The learner opens a lesson."""
        self.event(name, lesson, EventKind.LESSON_STARTED, when)

    def quiz(
        self, name: str, lesson: str, when: datetime, answers: list[Answer], *, passed: bool
    ) -> None:
        """One attempt: read and quiz_started 10 minutes before, answers 5 before, the result."""
        attempt = self.attempts.get((name, lesson), 0) + 1
        self.attempts[name, lesson] = attempt
        if attempt == 1:
            self.event(name, lesson, EventKind.LESSON_READ, when - timedelta(minutes=10))
        self.event(name, lesson, EventKind.QUIZ_STARTED, when - timedelta(minutes=10))
        for answer in answers:
            self.answer(name, lesson, answer, attempt, when - timedelta(minutes=5))
        kind = EventKind.QUIZ_PASSED if passed else EventKind.QUIZ_FAILED
        self.event(name, lesson, kind, when)

    def asked(self, text: str, when: datetime, *, answered: bool = False) -> None:
        """A (folded) question put to the assistant."""
        self.connection.execute(
            sa.insert(_question).values(text=text, asked_at=when, answered=answered, topic=None)
        )


# Typed answers to a-otp/q2, and all-right attempts, for brevity.
T_OK: Answer = ("q2", None, True)
T_NO: Answer = ("q2", None, False)
A_OK: list[Answer] = [("q1", 1, True), T_OK]
B_OK: list[Answer] = [("q1", 0, True), ("q2", 1, True)]


def build_dataset(engine: Engine) -> Dataset:
    """Insert the dataset described in this module's docstring."""
    dataset = Dataset()
    with engine.begin() as connection:
        w = _Writer(connection, dataset)
        w.learner("A1", "adult", "thon-mot", day("2026-09-01"))
        w.learner("A2", "adult", "thon-mot", day("2026-09-25"))
        w.learner("A3", "adult", "thon-hai", day("2026-11-01"))
        w.learner("A4", "adult", "thon-mot", day("2026-11-20"))
        w.learner("A5", "adult", None, day("2026-09-05"))
        w.learner("X1", "adult", "thon-cu", day("2026-10-10"))
        w.learner("W1", "worker", "thon-hai", day("2026-10-20"))
        w.learner("W2", "worker", "thon-hai", day("2026-11-01"))
        w.learner("W3", "worker", "thon-hai", at("2026-11-22 18:00"))
        w.learner("O1", "official", "thon-mot", day("2026-03-01"))
        w.learner("O2", "official", "thon-hai", day("2026-05-01"))
        w.learner("P1", "pupil", "thon-mot", day("2026-11-24"))
        w.learner("G0", None, None, at("2026-11-22 16:30"))
        w.learner("F1", "adult", "thon-mot", day("2026-11-26"))

        # A1: certified at the last second of Q3 in Vietnam.
        w.start("A1", "a-otp", at("2026-09-10 02:00"))
        w.quiz("A1", "a-otp", day("2026-09-10"), A_OK, passed=True)
        w.start("A1", "b-qr", at("2026-09-20 02:00"))
        w.quiz("A1", "b-qr", at("2026-09-30 16:59:59"), B_OK, passed=True)
        # A2: a-otp in Q3, b-qr on Sunday night (Vietnam) of week 47.
        w.start("A2", "a-otp", at("2026-09-30 02:00"))
        w.quiz("A2", "a-otp", day("2026-09-30"), [("q1", 0, False), T_OK], passed=True)
        w.start("A2", "b-qr", at("2026-11-22 15:00"))
        w.quiz("A2", "b-qr", at("2026-11-22 16:00"), B_OK, passed=True)
        # A3: fails each quiz once, then passes.
        w.start("A3", "a-otp", at("2026-11-02 01:00"))
        w.quiz(
            "A3",
            "a-otp",
            at("2026-11-02 02:00"),
            [("q1", 2, False), T_NO],
            passed=False,
        )
        w.quiz("A3", "a-otp", day("2026-11-02"), [("q1", 1, True), T_NO], passed=True)
        w.start("A3", "b-qr", at("2026-11-03 02:00"))
        w.quiz("A3", "b-qr", day("2026-11-03"), [("q1", 3, False), ("q2", 1, True)], passed=False)
        w.quiz("A3", "b-qr", day("2026-11-05"), B_OK, passed=True)
        # A4: a-otp passed on Monday 01:00 in Vietnam (Sunday 18:00 UTC); b-qr only started.
        w.start("A4", "a-otp", at("2026-11-21 01:00"))
        w.quiz("A4", "a-otp", day("2026-11-21"), [("q1", 0, False), T_NO], passed=False)
        w.quiz("A4", "a-otp", at("2026-11-22 18:00"), A_OK, passed=True)
        w.start("A4", "b-qr", day("2026-11-22"))
        # A5: only b-qr.
        w.start("A5", "b-qr", at("2026-09-06 02:00"))
        w.quiz("A5", "b-qr", day("2026-09-06"), B_OK, passed=True)
        # W1: b-qr passed at the last second of Sunday 15 November in Vietnam.
        w.start("W1", "a-otp", at("2026-10-21 02:00"))
        w.quiz("W1", "a-otp", day("2026-10-21"), A_OK, passed=True)
        w.start("W1", "b-qr", at("2026-11-15 16:00"))
        w.quiz("W1", "b-qr", at("2026-11-15 16:59:59"), B_OK, passed=True)
        # W2
        w.start("W2", "a-otp", at("2026-11-02 02:00"))
        w.quiz("W2", "a-otp", day("2026-11-02"), [("q1", 0, False), T_OK], passed=True)
        w.start("W2", "b-qr", at("2026-11-03 02:00"))
        w.quiz("W2", "b-qr", day("2026-11-03"), [("q1", 2, False), ("q2", 0, False)], passed=False)
        w.quiz("W2", "b-qr", day("2026-11-04"), B_OK, passed=True)
        # W3
        w.start("W3", "a-otp", day("2026-11-23"))
        # O1, O2
        w.start("O1", "a-otp", at("2026-03-02 02:00"))
        w.quiz("O1", "a-otp", day("2026-03-02"), A_OK, passed=True)
        w.start("O1", "c-vneid", at("2026-03-03 02:00"))
        w.quiz("O1", "c-vneid", day("2026-03-03"), [("q1", 1, True)], passed=True)
        w.start("O2", "a-otp", at("2026-05-02 02:00"))
        w.quiz("O2", "a-otp", day("2026-05-02"), [("q1", 1, True), T_NO], passed=True)
        w.start("O2", "c-vneid", at("2026-05-03 02:00"))
        w.quiz("O2", "c-vneid", day("2026-05-03"), [("q1", 0, False)], passed=False)
        w.quiz("O2", "c-vneid", day("2026-05-04"), [("q1", 0, False)], passed=False)
        # P1: a pupil passing an adult lesson; the pupils' core path is empty.
        w.start("P1", "a-otp", at("2026-11-24 02:00"))
        w.quiz("P1", "a-otp", day("2026-11-24"), [("q1", 2, False), T_OK], passed=True)
        # F1: everything after NOW.
        wrong_a: list[Answer] = [("q1", 0, False), T_NO]
        wrong_b: list[Answer] = [("q1", 1, False), ("q2", 0, False)]
        w.start("F1", "a-otp", at("2026-11-26 02:00"))
        w.quiz("F1", "a-otp", day("2026-11-26"), wrong_a, passed=True)
        w.start("F1", "b-qr", at("2026-11-26 04:00"))
        w.quiz("F1", "b-qr", at("2026-11-26 05:00"), wrong_b, passed=True)

        # Answers to content that no longer exists.
        for index, name in enumerate(["A1", "A2", "A3", "W1", "W2"]):
            w.answer(name, "a-otp", ("q-old", 0, False), 1, day(f"2026-08-0{index + 1}"))
        w.start("A1", "old-lesson", day("2026-08-01"))
        w.event("A1", "old-lesson", EventKind.QUIZ_PASSED, day("2026-08-01"))
        for index, name in enumerate(["A1", "A2", "A3", "W1", "W2", "O1"]):
            w.answer(name, "old-lesson", ("q1", 1, False), 1, day(f"2026-08-0{index + 1}"))

        for when in ("2026-11-01", "2026-11-20", "2026-11-24"):
            w.asked("mat khau vneid", day(when))
        w.asked("mat khau vneid", day("2026-11-21"), answered=True)
        for when in ("2026-11-02", "2026-11-03", "2026-11-05"):
            w.asked("hoc phi", day(when))
        w.asked("cach nop phat nguoi", at("2026-11-10 18:30"))
        for when in ("2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04", "2026-11-05"):
            w.asked("otp la gi", day(when), answered=True)
        w.asked("cau hoi tuong lai", day("2026-11-26"))
    return dataset
