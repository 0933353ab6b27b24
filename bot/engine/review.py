"""Review of missed questions: a wrong answer comes back later in a short review quiz.

The spacing, in days: a wrong answer (in a lesson's quiz or in a review) is due again the
next day; a right answer in a review moves the question up the ladder 1 -> 3 -> 7 days, and a
right answer at the top of the ladder retires it. So a question stays in review until the
learner has answered it right three times, each time after a longer pause. Days are the
engine's `today` (one calendar day, not 24 hours: "tomorrow" is what a learner expects); a
due day is stored as midnight UTC of that day.

A review shows at most `PER_REVIEW` due questions, earliest due first. A scheduled question
whose lesson or question is gone from the content is never shown, and is dropped from storage
by the learner's next step.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from bot.content import Question, TextQuestion
from bot.engine import texts
from bot.engine.choices import Choice
from bot.engine.flow import Decision, Move, Screen, Stay, Turn
from bot.engine.grading import accepts
from bot.engine.learning import (
    MENU,
    ContentGone,
    grade,
    next_lesson,
    question_screen,
    start_lesson,
)
from bot.engine.states import State
from storage.records import QuizAnswer, Review, ReviewChange, ordered, replay

INTERVALS = (1, 3, 7)
PER_REVIEW = 3

REVIEW_ID = "r.start"
NEW_LESSON = Choice(
    "r.lesson", texts.BTN_NEW_LESSON, ("hoc bai moi", "bai moi", "hoc tiep", "bo qua", "khong")
)
NEXT = Choice("r.next", texts.BTN_NEXT_LESSON, ("hoc tiep", "hoc bai moi", "bai moi"))


def review_choice(count: int, *aliases: str) -> Choice:
    """The "📝 Ôn lại câu sai (N)" choice, for the menu and the review screens."""
    return Choice(REVIEW_ID, texts.BTN_REVIEW.format(count=count), (*texts.REVIEW_WORDS, *aliases))


def due_on(today: dt.date, days: int) -> dt.datetime:
    """The moment a review waiting `days` days from `today` falls due (midnight UTC)."""
    return dt.datetime.combine(today + dt.timedelta(days=days), dt.time(), dt.UTC)


def question_of(turn: Turn, lesson_id: str, question_id: str) -> Question | None:
    """The question if its lesson and quiz still have it, else None."""
    content = turn.world.content
    quiz = content.quiz_for(lesson_id) if lesson_id in content.lessons else None
    if quiz is None:
        return None
    return next((q for q in quiz.questions if q.id == question_id), None)


def due_reviews(turn: Turn) -> list[Review]:
    """The learner's reviews due today whose question still exists, earliest first."""
    today = turn.world.today
    return [
        r
        for r in turn.learner.reviews
        if r.due_at.date() <= today and question_of(turn, r.lesson_id, r.question_id)
    ]


def for_wrong_answers(answers: Iterable[QuizAnswer], today: dt.date) -> tuple[ReviewChange, ...]:
    """Every quiz question answered wrongly comes back for review tomorrow."""
    first = INTERVALS[0]
    return tuple(
        ReviewChange(a.lesson_id, a.question_id, due_on(today, first), first)
        for a in answers
        if not a.correct
    )


def updated(reviews: Sequence[Review], changes: Iterable[ReviewChange]) -> tuple[Review, ...]:
    """The schedule after `changes`, in the order the repositories load it."""
    schedule = {(r.lesson_id, r.question_id): r for r in reviews}
    replay(schedule, changes)
    return ordered(schedule)


def after_answer(
    lesson_id: str, question_id: str, correct: bool, interval: int, today: dt.date
) -> ReviewChange:
    """The question's next step on the ladder: up (or retired) when right, back to 1 if not."""
    if not correct:
        return ReviewChange(lesson_id, question_id, due_on(today, INTERVALS[0]), INTERVALS[0])
    longer = [days for days in INTERVALS if days > interval]
    if not longer:
        return ReviewChange(lesson_id, question_id, None)
    return ReviewChange(lesson_id, question_id, due_on(today, longer[0]), longer[0])


def start_review(turn: Turn, before: tuple[str, ...] = ()) -> Move:
    """Open a review of at most `PER_REVIEW` due questions, earliest due first."""
    picked = due_reviews(turn)[:PER_REVIEW]
    if not picked:
        return Move(State.MENU, before=(*before, texts.REVIEW_NONE))
    data: dict[str, Any] = {
        "items": [[r.lesson_id, r.question_id] for r in picked],
        "i": 0,
        "right": 0,
        "learnt": 0,
    }
    intro = texts.REVIEW_INTRO.format(count=len(picked))
    return Move(State.REVIEW, data, before=(*before, intro))


def vanished(turn: Turn) -> tuple[ReviewChange, ...]:
    """Drops for scheduled questions whose lesson or question is gone from the content."""
    return tuple(
        ReviewChange(r.lesson_id, r.question_id, None)
        for r in turn.learner.reviews
        if question_of(turn, r.lesson_id, r.question_id) is None
    )


# -- "học tiếp" with reviews due: offer the review first -----------------------------------


def offer_screen(turn: Turn) -> Screen:
    """Reviews are due: review first, or go straight to the next lesson."""
    count = len(due_reviews(turn))
    text = texts.REVIEW_OFFER.format(count=count)
    return Screen((text,), (review_choice(count, "co", "dong y", "ok"), NEW_LESSON, MENU))


def handle_offer(turn: Turn, choice: Choice | None, text: str | None) -> Decision:
    """Start the review, or the next lesson."""
    if choice is not None and choice.id == REVIEW_ID:
        return start_review(turn)
    if choice is NEW_LESSON:
        return _next_lesson(turn)
    if choice is MENU:
        return Move(State.MENU)
    return Stay((texts.UNKNOWN,))


def _next_lesson(turn: Turn) -> Move:
    lesson = next_lesson(turn)
    return start_lesson(lesson) if lesson else Move(State.SKILLS, before=(texts.ALL_DONE,))


# -- the review quiz ----------------------------------------------------------------------


def _items(turn: Turn) -> list[tuple[str, str]]:
    return [(str(lesson), str(question)) for lesson, question in turn.data.get("items") or []]


def _current(turn: Turn) -> tuple[int, int, str, Question]:
    """Index, count, lesson id and question on screen; ContentGone if it vanished meanwhile."""
    items = _items(turn)
    index = int(turn.data.get("i", 0))
    if not 0 <= index < len(items):
        raise ContentGone
    lesson_id, question_id = items[index]
    question = question_of(turn, lesson_id, question_id)
    if question is None:
        raise ContentGone
    return index, len(items), lesson_id, question


def is_typed_answer(turn: Turn, text: str) -> bool:
    """Whether `text` is a right answer to the free-text review question on screen."""
    if turn.state is not State.REVIEW:
        return False
    try:
        _, _, _, question = _current(turn)
    except ContentGone:
        return False
    return isinstance(question, TextQuestion) and accepts(text, question.accept)


def review_screen(turn: Turn) -> Screen:
    """The current review question, worded as a review, with the quiz's options or prompt."""
    index, total, lesson_id, question = _current(turn)
    title = turn.world.content.lessons[lesson_id].title
    text = texts.REVIEW_QUESTION.format(
        index=index + 1, total=total, title=title, text=question.text
    )
    return question_screen(question, text)


def handle_review(turn: Turn, choice: Choice | None, text: str | None) -> Decision:
    """Grade at once with the quiz's explanation, reschedule, and go on or to the result."""
    index, total, lesson_id, question = _current(turn)
    graded = grade(question, choice, text)
    if isinstance(graded, Stay):
        return graded
    change = after_answer(
        lesson_id,
        question.id,
        graded.correct,
        _interval(turn, lesson_id, question.id),
        turn.world.today,
    )
    right = int(turn.data.get("right", 0)) + int(graded.correct)
    learnt = int(turn.data.get("learnt", 0)) + int(change.due_at is None)
    if index + 1 < total:
        data = {**turn.data, "i": index + 1, "right": right, "learnt": learnt}
        return Move(State.REVIEW, data, before=(graded.feedback,), reviews=(change,))
    result = {"score": right, "total": total, "learnt": learnt}
    return Move(State.REVIEW_RESULT, result, before=(graded.feedback,), reviews=(change,))


def _interval(turn: Turn, lesson_id: str, question_id: str) -> int:
    found = (
        r.interval_days
        for r in turn.learner.reviews
        if (r.lesson_id, r.question_id) == (lesson_id, question_id)
    )
    return next(found, INTERVALS[0])


def review_result_screen(turn: Turn) -> Screen:
    """How the review went, when the questions come back, and the way on."""
    score, total = int(turn.data.get("score", 0)), int(turn.data.get("total", 0))
    learnt = int(turn.data.get("learnt", 0))
    lines = [texts.REVIEW_DONE.format(score=score, total=total)]
    if score < total:
        lines.append(texts.REVIEW_AGAIN_TOMORROW)
    if score > learnt:
        lines.append(texts.REVIEW_AGAIN_LATER)
    if learnt:
        lines.append(texts.REVIEW_LEARNT.format(count=learnt))
    more = len(due_reviews(turn))
    choices = (review_choice(more), NEXT, MENU) if more else (NEXT, MENU)
    return Screen(("\n".join(lines),), choices)


def handle_review_result(turn: Turn, choice: Choice | None, text: str | None) -> Decision:
    """Another review if more are due, the next lesson, or the menu."""
    if choice is not None and choice.id == REVIEW_ID:
        return start_review(turn)
    if choice is NEXT:
        return _next_lesson(turn)
    if choice is MENU:
        return Move(State.MENU)
    return Stay((texts.UNKNOWN,))
