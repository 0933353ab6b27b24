"""Lesson funnels, hardest questions, the weekly trend and unanswered questions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.auth import CurrentOfficial, ReportReader
from api.coverage import HARDEST_LIMIT, lesson_report, trend, unanswered, week_starts
from api.deps import ContextDep
from api.schemas import LessonReport, Trend, Unanswered
from storage.stats import answer_counts, lesson_funnels, period_counts, unanswered_questions

router = APIRouter(prefix="/api/v1", tags=["lessons"])

MIN_ANSWERS = 5


@router.get("/lessons", response_model=LessonReport)
def get_lessons(
    context: ContextDep,
    official: CurrentOfficial,
    min_answers: Annotated[int, Query(ge=1, le=100_000)] = MIN_ANSWERS,
) -> LessonReport:
    """Every lesson's funnel and the questions answered wrong most often."""
    now = context.now()
    return lesson_report(
        context.content,
        lesson_funnels(context.database, now),
        answer_counts(context.database, now, min_answers=min_answers),
        limit=HARDEST_LIMIT,
    )


@router.get("/trend", response_model=Trend)
def get_trend(
    context: ContextDep,
    official: CurrentOfficial,
    weeks: Annotated[int, Query(ge=1, le=104)] = 12,
) -> Trend:
    """New learners and lesson completions per ISO week (Vietnam time), oldest first."""
    now = context.now()
    starts = week_starts(context.today(), weeks)
    return trend(period_counts(context.database, starts, now))


@router.get("/questions/unanswered", response_model=Unanswered)
def get_unanswered(
    context: ContextDep,
    # Learners' own words may hold personal details: admins and viewers only.
    official: ReportReader,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> Unanswered:
    """Questions the assistant could not answer, most often asked first."""
    return unanswered(unanswered_questions(context.database, context.now(), limit))
