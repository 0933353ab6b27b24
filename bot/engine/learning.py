"""Lessons, quizzes and results: the heart of the learner's journey."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.content import ChoiceQuestion, Lesson, Question, Quiz, TextQuestion
from bot.engine import certificates, texts
from bot.engine.choices import Choice
from bot.engine.flow import Decision, Move, Screen, Stay, Turn
from bot.engine.grading import accepts
from bot.engine.states import State
from storage.records import EventKind, LearnerSnapshot, ProgressEvent, QuizAnswer

NEXT_CARD = Choice("next", texts.BTN_NEXT_CARD, texts.NEXT_WORDS)
START_QUIZ = Choice("quiz", texts.BTN_START_QUIZ, ("lam bai kiem tra", "kiem tra", "lam bai"))
FINISH = Choice("done", "✅ Xong", texts.NEXT_WORDS)
MENU = Choice("menu", texts.BTN_MENU, ("menu", "ve menu"))
IDK = Choice("idk", texts.BTN_IDK, ("khong biet", "ko biet", "chiu", "bo qua"))
RETRY = Choice("retry", texts.BTN_RETRY, ("lam lai", "thu lai"))
REREAD = Choice("reread", texts.BTN_REREAD, ("doc lai", "hoc lai"))
NEXT_LESSON = Choice("nextlesson", texts.BTN_NEXT_AFTER_PASS, ("hoc tiep", "bai tiep", "tiep"))


class ContentGone(Exception):
    """The lesson a learner was in has been removed or changed since; start them afresh."""


def lesson_of(turn: Turn) -> Lesson:
    """The lesson named in the current step's data."""
    lesson = turn.world.content.lessons.get(str(turn.data.get("lesson")))
    if lesson is None:
        raise ContentGone
    return lesson


def quiz_of(turn: Turn) -> Quiz:
    """The quiz of the lesson named in the current step's data."""
    quiz = turn.world.content.quiz_for(lesson_of(turn).id)
    if quiz is None:
        raise ContentGone
    return quiz


def next_lesson(turn: Turn) -> Lesson | None:
    """The next lesson not yet completed: the learner's path (core, then optional) first."""
    content = turn.world.content
    completed = turn.learner.completed_lessons
    profile = turn.learner.profile
    age = turn.world.today.year - profile.birth_year if profile.birth_year else None
    path = content.path_for(profile.target_group, age)
    ordered = [*path.core, *path.optional] if path is not None else []
    mine = [lid for lid in ordered if lid in content.lessons and lid not in completed]
    if mine:
        return content.lessons[mine[0]]
    pending = [x for x in content.lessons.values() if x.id not in completed]
    grouped = [x for x in pending if profile.target_group in x.groups]
    candidates = grouped or pending
    return candidates[0] if candidates else None


def start_lesson(lesson: Lesson, before: tuple[str, ...] = ()) -> Move:
    """Open a lesson at its first card."""
    return Move(
        State.LESSON,
        {"lesson": lesson.id, "card": 0},
        before=before,
        events=(ProgressEvent(lesson.id, EventKind.LESSON_STARTED),),
    )


def start_quiz(
    learner: LearnerSnapshot, quiz: Quiz, events: tuple[ProgressEvent, ...] = ()
) -> Move:
    """Open a quiz at its first question, as a new attempt."""
    attempt = learner.quiz_attempts.get(quiz.lesson_id, 0) + 1
    intro = texts.QUIZ_INTRO.format(count=len(quiz.questions), pass_mark=quiz.pass_mark)
    return Move(
        State.QUIZ,
        {"lesson": quiz.lesson_id, "q": 0, "right": 0, "attempt": attempt},
        before=(intro,),
        events=(*events, ProgressEvent(quiz.lesson_id, EventKind.QUIZ_STARTED)),
    )


def lesson_screen(turn: Turn) -> Screen:
    """One card of the lesson, with "Tiếp", or the quiz button on the last card."""
    lesson = lesson_of(turn)
    index = min(int(turn.data.get("card", 0)), len(lesson.cards) - 1)
    card = lesson.cards[index]
    text = texts.LESSON_CARD.format(
        title=lesson.title, index=index + 1, total=len(lesson.cards), text=card.text
    )
    if index < len(lesson.cards) - 1:
        choices = (NEXT_CARD, MENU)
    elif turn.world.content.quiz_for(lesson.id) is not None:
        choices = (START_QUIZ, MENU)
    else:
        choices = (FINISH, MENU)
    return Screen((text,), choices, card.image)


def handle_lesson(turn: Turn, choice: Choice | None, text: str | None) -> Decision:
    """Turn the page, or start the quiz after the last card."""
    lesson = lesson_of(turn)
    index = int(turn.data.get("card", 0))
    if choice is NEXT_CARD:
        return Move(State.LESSON, {"lesson": lesson.id, "card": index + 1})
    if choice is START_QUIZ:
        read = ProgressEvent(lesson.id, EventKind.LESSON_READ)
        return start_quiz(turn.learner, quiz_of(turn), (read,))
    if choice is FINISH:
        done = texts.LESSON_NO_QUIZ.format(title=lesson.title)
        read = ProgressEvent(lesson.id, EventKind.LESSON_READ)
        return Move(State.MENU, before=(done,), events=(read,))
    if choice is MENU:
        return Move(State.MENU)
    return Stay((texts.UNKNOWN,))


def _question(turn: Turn) -> tuple[Quiz, int, Question]:
    quiz = quiz_of(turn)
    index = int(turn.data.get("q", 0))
    if not 0 <= index < len(quiz.questions):
        raise ContentGone
    return quiz, index, quiz.questions[index]


def _option_choices(question: ChoiceQuestion) -> tuple[Choice, ...]:
    return tuple(Choice(f"o{i}", option.text) for i, option in enumerate(question.options))


def is_typed_answer(turn: Turn, text: str) -> bool:
    """Whether `text` is a right answer to the free-text question on screen.

    Then it is graded even if it looks like a command: the quiz may ask "what do you type to
    go back to the main page?" and the answer is "menu".
    """
    if turn.state is not State.QUIZ:
        return False
    try:
        _, _, question = _question(turn)
    except ContentGone:
        return False
    return isinstance(question, TextQuestion) and accepts(text, question.accept)


def quiz_screen(turn: Turn) -> Screen:
    """The current question: options as choices, or a prompt to type the answer."""
    quiz, index, question = _question(turn)
    text = texts.QUIZ_QUESTION.format(
        index=index + 1, total=len(quiz.questions), text=question.text
    )
    return question_screen(question, text)


def question_screen(question: Question, text: str) -> Screen:
    """A question already worded as `text`: its options, or a prompt to type the answer."""
    if isinstance(question, TextQuestion):
        return Screen((f"{text}\n\n{texts.QUIZ_TYPE_ANSWER}",), (IDK,))
    return Screen((text,), _option_choices(question))


@dataclass(frozen=True, slots=True)
class Graded:
    """An answer graded at once: right or not, the explanation, the option picked (if any)."""

    correct: bool
    feedback: str
    option_index: int | None = None


def grade(question: Question, choice: Choice | None, text: str | None) -> Graded | Stay:
    """Grade a pressed option or typed answer; Stay with a hint when it is no answer at all."""
    if isinstance(question, TextQuestion):
        if choice is IDK:
            return Graded(False, _skipped(question))
        if text is not None and text.strip():
            correct = accepts(text, question.accept)
            return Graded(correct, _graded_text(question, correct))
        return Stay((texts.QUIZ_TYPE_ANSWER,))
    if choice is None or not choice.id.startswith("o"):
        numbers = ", ".join(str(i + 1) for i in range(len(question.options)))
        return Stay((texts.QUIZ_PICK_OPTION.format(numbers=numbers),))
    picked = int(choice.id[1:])
    return Graded(picked == question.correct_index, _graded_option(question, picked), picked)


def handle_quiz(turn: Turn, choice: Choice | None, text: str | None) -> Decision:
    """Grade the answer at once, explain it, and go on to the next question or the result."""
    quiz, index, question = _question(turn)
    attempt = int(turn.data.get("attempt", 1))
    graded = grade(question, choice, text)
    if isinstance(graded, Stay):
        return graded
    correct, feedback = graded.correct, graded.feedback
    answer = QuizAnswer(quiz.lesson_id, question.id, attempt, correct, graded.option_index, text)
    right = int(turn.data.get("right", 0)) + int(correct)
    if index + 1 < len(quiz.questions):
        data = {"lesson": quiz.lesson_id, "q": index + 1, "right": right, "attempt": attempt}
        return Move(State.QUIZ, data, before=(feedback,), answers=(answer,))
    passed = right >= quiz.pass_mark
    kind = EventKind.QUIZ_PASSED if passed else EventKind.QUIZ_FAILED
    total = len(quiz.questions)
    result: dict[str, Any] = {
        "lesson": quiz.lesson_id,
        "passed": passed,
        "score": right,
        "total": total,
    }
    certificate = certificates.earned(turn, quiz.lesson_id) if passed else None
    if certificate is not None:
        result["certificate"] = certificate.code
    return Move(
        State.RESULT,
        result,
        before=(feedback,),
        answers=(answer,),
        events=(ProgressEvent(quiz.lesson_id, kind, right, total),),
        certificate=certificate,
    )


def _graded_option(question: ChoiceQuestion, picked: int) -> str:
    chosen = question.options[picked]
    if chosen.correct:
        return texts.ANSWER_RIGHT.format(explanation=chosen.explanation)
    right = question.options[question.correct_index]
    return "\n\n".join(
        (
            texts.ANSWER_WRONG.format(explanation=chosen.explanation),
            texts.ANSWER_WRONG_CORRECT.format(answer=right.text, explanation=right.explanation),
        )
    )


def _graded_text(question: TextQuestion, correct: bool) -> str:
    if correct:
        return texts.ANSWER_RIGHT.format(explanation=question.explanation)
    return texts.ANSWER_WRONG_TEXT.format(
        answer=question.accept[0], explanation=question.explanation
    )


def _skipped(question: TextQuestion) -> str:
    return texts.ANSWER_SKIPPED.format(answer=question.accept[0], explanation=question.explanation)


def result_screen(turn: Turn) -> Screen:
    """Pass or fail, with the way forward: the next lesson, or another try."""
    lesson = lesson_of(turn)
    score, total = int(turn.data.get("score", 0)), int(turn.data.get("total", 0))
    if turn.data.get("passed"):
        text = texts.RESULT_PASSED.format(score=score, total=total, title=lesson.title)
        following = next_lesson(turn)
        choices = (NEXT_LESSON, MENU) if following else (MENU,)
        code = turn.data.get("certificate")
        if isinstance(code, str) and code == turn.learner.certificate_code:
            earned = certificates.earned_text(turn, code)
            return Screen((text, earned), choices, certificates.image_path(code))
        return Screen((text,), choices)
    quiz = quiz_of(turn)
    text = texts.RESULT_FAILED.format(score=score, total=total, pass_mark=quiz.pass_mark)
    return Screen((text,), (RETRY, REREAD, MENU))


def handle_result(turn: Turn, choice: Choice | None, text: str | None) -> Decision:
    """Retry, reread, go on to the next lesson, or back to the menu."""
    if choice is RETRY:
        return start_quiz(turn.learner, quiz_of(turn))
    if choice is REREAD:
        return start_lesson(lesson_of(turn))
    if choice is NEXT_LESSON:
        following = next_lesson(turn)
        return start_lesson(following) if following else Move(State.MENU, before=(texts.ALL_DONE,))
    if choice is MENU:
        return Move(State.MENU)
    return Stay((texts.UNKNOWN,))
