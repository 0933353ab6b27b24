"""Counts for the officials' statistics, aggregated in SQL (SQLite and PostgreSQL alike).

Every query takes an `as_of` instant: rows stamped after it are ignored, so a past quarter's
figures, or the figures of 28 days ago that give the pace, come from the same queries.
`coverage_counts_at` reads the coverage counts as of several instants in one pass.

- enrolled: learners (a learner row exists only after consent; a learner who deletes their
  data stays as an anonymous row with its group, hamlet, events and answers, see
  storage/deidentify.py, so no figure changes) created by `as_of`, per target group and
  hamlet as stored on the learner now; learners without a group are not counted.
- core_completed: those learners whose lessons with a `quiz_passed` event (by `as_of`)
  include every lesson of their group's core path; a group with an empty path counts nobody.
- lesson funnels: distinct learners who started a lesson or passed its quiz, and quiz events.
- answers: per (lesson, question), all answers and wrong ones, and answers per chosen option.
- periods: new learners (by `learner.created_at`) and `quiz_passed` events per period.
- unanswered questions: `question_log` rows with `answered` false, grouped by their text.

The dataclasses carry counts only: no learner id, chat id or name ever leaves this module.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from storage.models import (
    HandsOnCheck,
    Learner,
    LearnerMilestone,
    ProgressEventRecord,
    QuestionLog,
    QuizAnswerRecord,
)
from storage.records import EventKind
from storage.rollup import fingerprint, stored_fingerprint

_tables = SQLModel.metadata.tables
_learner = _tables[str(Learner.__tablename__)]
_event = _tables[str(ProgressEventRecord.__tablename__)]
_answer = _tables[str(QuizAnswerRecord.__tablename__)]
_question = _tables[str(QuestionLog.__tablename__)]
_check = _tables[str(HandsOnCheck.__tablename__)]
_milestone = _tables[str(LearnerMilestone.__tablename__)]
# The check id of "confirmed on VNeID / the national platform" (bot.engine.volunteer).
PLATFORM_CONFIRMED = "platform_confirmed"

_PASSED = EventKind.QUIZ_PASSED.value


@dataclass(frozen=True, slots=True)
class CoverageCount:
    """Learners of one target group in one hamlet (None: no or unknown hamlet)."""

    group: str
    hamlet_id: str | None
    enrolled: int
    core_completed: int
    # Learners a volunteer saw do at least one hands-on skill, and those confirmed on VNeID /
    # the national platform (storage.models.HandsOnCheck; bot.engine.volunteer.CHECKS).
    hands_on: int = 0
    vneid_confirmed: int = 0


@dataclass(frozen=True, slots=True)
class LessonFunnel:
    """How far learners got in one lesson: distinct learners and quiz events."""

    lesson_id: str
    started: int
    finished: int
    quiz_passed: int
    quiz_failed: int
    quiz_started: int
    quiz_starters: int


@dataclass(frozen=True, slots=True)
class OptionCount:
    """How many answers picked one option (0-based index, as stored)."""

    option_index: int
    answers: int


@dataclass(frozen=True, slots=True)
class QuestionAnswers:
    """Answers to one quiz question: all, wrong ones, and per chosen option."""

    lesson_id: str
    question_id: str
    answers: int
    wrong: int
    options: tuple[OptionCount, ...]


@dataclass(frozen=True, slots=True)
class PeriodCount:
    """New learners and quiz completions in the period starting at `start`."""

    start: datetime
    new_learners: int
    completions: int


@dataclass(frozen=True, slots=True)
class UnansweredCount:
    """A question the assistant could not answer, how often it was asked, and when last."""

    text: str
    count: int
    last_asked: datetime


def coverage_counts(
    engine: Engine, core_paths: Mapping[str, Collection[str]], as_of: datetime
) -> tuple[CoverageCount, ...]:
    """Enrolled and core-path-completed learners per (group, hamlet) as of an instant."""
    return coverage_counts_at(engine, core_paths, (as_of,))[0]


def coverage_counts_at(
    engine: Engine,
    core_paths: Mapping[str, Collection[str]],
    instants: Sequence[datetime],
    *,
    rollup: bool = True,
) -> tuple[tuple[CoverageCount, ...], ...]:
    """`coverage_counts` as of each of several instants, reading each table once for all.

    From the per-learner rollup (storage/rollup.py) when it is built for these core paths
    (and `rollup` is true), else from the raw events and checks: the same counts either way.
    """
    # The API needs now and 28 days before (the pace): one pass over the events with a
    # count per instant costs half of two passes, and the events are by far the most rows.
    if not instants:
        return ()
    counts: list[defaultdict[tuple[str, str | None], list[int]]] = [
        defaultdict(lambda: [0, 0, 0, 0]) for _ in instants
    ]
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            # Compiling these few-row-output aggregates to machine code costs more than it
            # saves (0.9 s of a 3.9 s query over 15 M events); it is off for this read only.
            connection.exec_driver_sql("SET LOCAL jit = off")
        for group, hamlet_id, *enrolled in connection.execute(_enrolled_query(instants)):
            for index, count in enumerate(enrolled):
                counts[index][group, hamlet_id][0] = count
        if rollup and stored_fingerprint(connection) == fingerprint(core_paths):
            # The rollup (storage/rollup.py) is exact for these core paths: no raw events.
            for group, hamlet_id, *figures in connection.execute(_milestone_query(instants)):
                for index in range(len(instants)):
                    counts[index][group, hamlet_id][1:] = figures[3 * index : 3 * index + 3]
            return _by_instant(counts)
        completed = _completed_query(core_paths, instants)
        if completed is not None:
            for group, hamlet_id, *done in connection.execute(completed):
                for index, count in enumerate(done):
                    counts[index][group, hamlet_id][1] = count
        for group, hamlet_id, *checked in connection.execute(_checks_query(instants)):
            for index in range(len(instants)):
                counts[index][group, hamlet_id][2:] = checked[2 * index : 2 * index + 2]
    return _by_instant(counts)


def _by_instant(
    counts: Sequence[Mapping[tuple[str, str | None], list[int]]],
) -> tuple[tuple[CoverageCount, ...], ...]:
    # A (group, hamlet) seen only at other instants has nothing at this one: left out, as a
    # query for this instant alone would.
    return tuple(
        tuple(
            CoverageCount(group, hamlet_id, *figures)
            for (group, hamlet_id), figures in sorted(
                at_instant.items(), key=lambda item: (item[0][0], item[0][1] or "")
            )
            if any(figures)
        )
        for at_instant in counts
    )


def _count_when(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    return sa.func.count(sa.case((condition, 1)))


def _enrolled_query(instants: Sequence[datetime]) -> sa.Select[Any]:
    return (
        sa.select(
            _learner.c.target_group,
            _learner.c.hamlet_id,
            *(_count_when(_learner.c.created_at <= at) for at in instants),
        )
        .where(_learner.c.target_group.is_not(None), _learner.c.created_at <= max(instants))
        .group_by(_learner.c.target_group, _learner.c.hamlet_id)
    )


def _milestone_query(instants: Sequence[datetime]) -> sa.Select[Any]:
    # Per instant: core path completed, another hands-on check, confirmed on VNeID, each by
    # then, of learners created by then (the order of CoverageCount's fields). The rollup
    # row carries the learner's group, hamlet and creation time: no join with `learner`.
    columns = []
    for at in instants:
        exists = _milestone.c.created_at <= at
        columns += [
            _count_when(sa.and_(exists, _milestone.c.core_completed_at <= at)),
            _count_when(sa.and_(exists, _milestone.c.hands_on_at <= at)),
            _count_when(sa.and_(exists, _milestone.c.confirmed_at <= at)),
        ]
    return (
        sa.select(_milestone.c.target_group, _milestone.c.hamlet_id, *columns)
        .where(_milestone.c.target_group.is_not(None), _milestone.c.created_at <= max(instants))
        .group_by(_milestone.c.target_group, _milestone.c.hamlet_id)
    )


def _checks_query(instants: Sequence[datetime]) -> sa.Select[Any]:
    confirmed = _check.c.check_id == PLATFORM_CONFIRMED
    columns = []
    for at in instants:
        signed = sa.and_(_check.c.signed_at <= at, _learner.c.created_at <= at)
        columns += [
            sa.func.count(sa.distinct(sa.case((sa.and_(signed, ~confirmed), _check.c.learner_id)))),
            sa.func.count(sa.distinct(sa.case((sa.and_(signed, confirmed), _check.c.learner_id)))),
        ]
    latest = max(instants)
    return (
        sa.select(_learner.c.target_group, _learner.c.hamlet_id, *columns)
        .select_from(_check.join(_learner, _learner.c.id == _check.c.learner_id))
        .where(
            _learner.c.target_group.is_not(None),
            _learner.c.created_at <= latest,
            _check.c.signed_at <= latest,
        )
        .group_by(_learner.c.target_group, _learner.c.hamlet_id)
    )


def _completed_query(
    core_paths: Mapping[str, Collection[str]], instants: Sequence[datetime]
) -> sa.Select[Any] | None:
    paths = {group: sorted(set(lessons)) for group, lessons in core_paths.items() if lessons}
    if not paths:
        return None
    # One row per learner with, per instant, how many lessons of their own group's path they
    # had passed by then: the passed lessons are filtered to that path, so counting them
    # distinctly is enough. The learner completed the path by an instant when that count is
    # the path's length (and the learner existed by then).
    in_own_path = sa.or_(
        *(
            sa.and_(_learner.c.target_group == group, _event.c.lesson_id.in_(lessons))
            for group, lessons in paths.items()
        )
    )
    latest = max(instants)
    per_learner = (
        sa.select(
            _learner.c.target_group,
            _learner.c.hamlet_id,
            _learner.c.created_at,
            *(
                sa.func.count(
                    sa.distinct(sa.case((_event.c.created_at <= at, _event.c.lesson_id)))
                ).label(f"passed_{index}")
                for index, at in enumerate(instants)
            ),
        )
        .select_from(_event.join(_learner, _learner.c.id == _event.c.learner_id))
        .where(
            _event.c.kind == _PASSED,
            _event.c.created_at <= latest,
            _learner.c.created_at <= latest,
            in_own_path,
        )
        .group_by(
            _learner.c.id, _learner.c.target_group, _learner.c.hamlet_id, _learner.c.created_at
        )
        .subquery("per_learner")
    )
    path_length = sa.case(
        {group: len(lessons) for group, lessons in paths.items()},
        value=per_learner.c.target_group,
    )
    return sa.select(
        per_learner.c.target_group,
        per_learner.c.hamlet_id,
        *(
            _count_when(
                sa.and_(
                    per_learner.c[f"passed_{index}"] == path_length,
                    per_learner.c.created_at <= at,
                )
            )
            for index, at in enumerate(instants)
        ),
    ).group_by(per_learner.c.target_group, per_learner.c.hamlet_id)


def _learners_with(kind: EventKind) -> sa.ColumnElement[int]:
    return sa.func.count(sa.distinct(sa.case((_event.c.kind == kind.value, _event.c.learner_id))))


def _events_of(kind: EventKind) -> sa.ColumnElement[int]:
    return sa.func.count(sa.case((_event.c.kind == kind.value, 1)))


def lesson_funnels(engine: Engine, as_of: datetime) -> tuple[LessonFunnel, ...]:
    """Every lesson with progress events by `as_of`, and its funnel counts."""
    query = (
        sa.select(
            _event.c.lesson_id,
            _learners_with(EventKind.LESSON_STARTED),
            _learners_with(EventKind.QUIZ_PASSED),
            _events_of(EventKind.QUIZ_PASSED),
            _events_of(EventKind.QUIZ_FAILED),
            _events_of(EventKind.QUIZ_STARTED),
            _learners_with(EventKind.QUIZ_STARTED),
        )
        .where(_event.c.created_at <= as_of)
        .group_by(_event.c.lesson_id)
        .order_by(_event.c.lesson_id)
    )
    with engine.connect() as connection:
        return tuple(LessonFunnel(*row) for row in connection.execute(query))


def answer_counts(
    engine: Engine, as_of: datetime, *, min_answers: int = 1
) -> tuple[QuestionAnswers, ...]:
    """Per (lesson, question) with at least `min_answers` answers by `as_of`: the counts."""
    answers = sa.func.count()
    questions = (
        sa.select(
            _answer.c.lesson_id,
            _answer.c.question_id,
            answers,
            sa.func.count(sa.case((sa.not_(_answer.c.correct), 1))),
        )
        .where(_answer.c.created_at <= as_of)
        .group_by(_answer.c.lesson_id, _answer.c.question_id)
        .having(answers >= min_answers)
        .order_by(_answer.c.lesson_id, _answer.c.question_id)
    )
    options = (
        sa.select(_answer.c.lesson_id, _answer.c.question_id, _answer.c.option_index, answers)
        .where(_answer.c.created_at <= as_of, _answer.c.option_index.is_not(None))
        .group_by(_answer.c.lesson_id, _answer.c.question_id, _answer.c.option_index)
        .order_by(_answer.c.lesson_id, _answer.c.question_id, _answer.c.option_index)
    )
    with engine.connect() as connection:
        totals = connection.execute(questions).all()
        picked: dict[tuple[str, str], list[OptionCount]] = defaultdict(list)
        for lesson_id, question_id, option_index, count in connection.execute(options):
            picked[lesson_id, question_id].append(OptionCount(option_index, count))
    return tuple(
        QuestionAnswers(lesson_id, question_id, count, wrong, tuple(picked[lesson_id, question_id]))
        for lesson_id, question_id, count, wrong in totals
    )


def period_counts(
    engine: Engine, starts: Sequence[datetime], as_of: datetime
) -> tuple[PeriodCount, ...]:
    """New learners and quiz completions per period (from each start to the next, or `as_of`)."""
    if not starts:
        return ()
    if any(later <= earlier for earlier, later in pairwise(starts)):
        raise ValueError("period starts must increase")
    learners = _per_period(_learner.c.created_at, sa.true(), starts, as_of)
    passed = _per_period(_event.c.created_at, _event.c.kind == _PASSED, starts, as_of)
    with engine.connect() as connection:
        new = {period: count for period, count in connection.execute(learners)}
        done = {period: count for period, count in connection.execute(passed)}
    return tuple(
        PeriodCount(start, new.get(index, 0), done.get(index, 0))
        for index, start in enumerate(starts)
    )


def _per_period(
    column: sa.ColumnElement[datetime],
    condition: sa.ColumnElement[bool],
    starts: Sequence[datetime],
    as_of: datetime,
) -> sa.Select[int, int]:
    # The period index is computed in a subquery and grouped by name outside it: PostgreSQL
    # would not recognise a CASE with bound parameters as the same expression in GROUP BY.
    # One period has no boundaries to test: a CASE with no WHEN is invalid SQL.
    period: sa.ColumnElement[Any] = (
        sa.literal(0)
        if len(starts) == 1
        else sa.case(
            *((column < start, index) for index, start in enumerate(starts[1:])),
            else_=len(starts) - 1,
        )
    )
    bucketed = (
        sa.select(period.label("period"))
        .where(condition, column >= starts[0], column <= as_of)
        .subquery("bucketed")
    )
    return sa.select(bucketed.c.period, sa.func.count()).group_by(bucketed.c.period)


def unanswered_questions(
    engine: Engine, as_of: datetime, limit: int
) -> tuple[UnansweredCount, ...]:
    """Unanswered questions by `as_of`, grouped by text: most asked first, then latest."""
    count = sa.func.count()
    last_asked = sa.func.max(_question.c.asked_at)
    query = (
        sa.select(_question.c.text, count, last_asked)
        .where(sa.not_(_question.c.answered), _question.c.asked_at <= as_of)
        .group_by(_question.c.text)
        .order_by(count.desc(), last_asked.desc(), _question.c.text)
        .limit(limit)
    )
    with engine.connect() as connection:
        return tuple(UnansweredCount(*row) for row in connection.execute(query))
