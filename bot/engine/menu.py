"""The main menu and what hangs off it: topics, questions, progress, help, deleting data."""

from __future__ import annotations

from bot.engine import reminders, review, texts, volunteer
from bot.engine.choices import Choice
from bot.engine.flow import Decision, Move, Outcome, Screen, Stay, Suggestion, Turn
from bot.engine.learning import MENU, next_lesson, start_lesson
from bot.engine.messages import Reply
from bot.engine.states import State
from bot.textnorm import fold
from storage.certcode import display_code
from storage.records import AskedQuestion

QUESTION_MAX = 300

NEXT = Choice("m.next", texts.BTN_NEXT_LESSON, ("hoc tiep", "hoc", "bat dau hoc", "hoc bai"))
SKILLS = Choice("m.skills", texts.BTN_SKILLS, ("chu de", "chon chu de", "chon bai"))
ASK = Choice("m.ask", texts.BTN_ASK, ("hoi dap", "hoi", "dat cau hoi"))
PROGRESS = Choice("m.progress", texts.BTN_PROGRESS, ("tien do", "ket qua", "tien do cua toi"))
HELP = Choice("m.help", texts.BTN_HELP, ("tro giup", "huong dan"))
OTHER_SKILL = Choice("back", "🗂️ Chủ đề khác", ("chu de khac", "quay lai"))
STUDY = Choice("study", texts.BTN_STUDY_THIS, ("hoc bai nay", "hoc", "co", "dong y"))
ASK_AGAIN = Choice("again", texts.BTN_ASK_AGAIN, ("hoi cau khac", "hoi tiep", "hoi"))
VOLUNTEER = Choice("volunteer", texts.BTN_VOLUNTEER, ("tinh nguyen vien", "gap nguoi", "nho nguoi"))
DELETE_YES = Choice("yes", texts.BTN_DELETE_YES, ("xoa", "co", "dong y", "xoa het"))
DELETE_MINE = Choice("delete", texts.BTN_DELETE_MINE, ("xoa du lieu cua toi", "xoa"))
DELETE_NO = Choice("no", texts.BTN_DELETE_NO, ("khong", "ko", "thoi", "huy"))


def menu_screen(turn: Turn) -> Screen:
    """The main menu; "📝 Ôn lại câu sai (N)" under "Học tiếp" while reviews are due."""
    due = len(review.due_reviews(turn))
    reviewing = (review.review_choice(due),) if due else ()
    tools = (volunteer.TOOLS,) if turn.learner.volunteer is not None else ()
    remind = reminders.menu_choice(turn)
    return Screen((texts.MENU,), (NEXT, *reviewing, SKILLS, ASK, PROGRESS, HELP, *tools, *remind))


def handle_menu(turn: Turn, choice: Choice | None, text: str | None) -> Decision:
    """Follow a menu choice; anything else typed is taken as a question for the assistant."""
    if choice is NEXT and review.due_reviews(turn):
        return Move(State.REVIEW_OFFER)
    if choice is volunteer.TOOLS and turn.learner.volunteer is not None:
        return Move(State.VOLUNTEER)
    if choice is not None and choice.id == review.REVIEW_ID:
        return review.start_review(turn)
    if choice is NEXT:
        lesson = next_lesson(turn)
        return start_lesson(lesson) if lesson else Move(State.SKILLS, before=(texts.ALL_DONE,))
    if choice is SKILLS:
        return Move(State.SKILLS)
    if choice is ASK:
        return Move(State.ASK)
    if choice is PROGRESS:
        return Stay((progress_text(turn),))
    if choice is HELP:
        return Move(State.HELP)
    if choice is reminders.REMIND_ON:
        return reminders.opt_in(turn)
    if choice is reminders.REMIND_OFF:
        return reminders.stop(turn)
    if text and text.strip():
        return answer_question(turn, text)
    return Stay((texts.UNKNOWN,))


def progress_text(turn: Turn) -> str:
    """How many lessons the learner has completed, and which."""
    lessons = turn.world.content.lessons.values()
    done = [lesson for lesson in lessons if lesson.id in turn.learner.completed_lessons]
    if not done:
        return texts.PROGRESS_NONE
    head = texts.PROGRESS.format(done=len(done), total=len(lessons))
    lines = [head, *(f"✅ {lesson.title}" for lesson in done)]
    if turn.learner.certificate_code is not None:
        # The code again, for whoever lost the picture or the message.
        code = display_code(turn.learner.certificate_code)
        lines.append(texts.PROGRESS_CERTIFICATE.format(code=code))
    return "\n".join(lines)


def skills_screen(turn: Turn) -> Screen:
    """The skills that have lessons, to pick one."""
    content = turn.world.content
    choices = tuple(
        Choice(f"s.{skill.id}", skill.title)
        for skill in content.skills.values()
        if content.lessons_for_skill(skill.id)
    )
    return Screen((texts.SKILLS,), (*choices, MENU))


def handle_skills(turn: Turn, choice: Choice | None, text: str | None) -> Decision:
    """Open the chosen skill's list of lessons."""
    if choice is MENU:
        return Move(State.MENU)
    if choice is None:
        return Stay((texts.UNKNOWN,))
    return Move(State.SKILL_LESSONS, {"skill": choice.id.removeprefix("s.")})


def skill_lessons_screen(turn: Turn) -> Screen:
    """The lessons of one skill, ticked when completed."""
    content = turn.world.content
    skill = content.skills.get(str(turn.data.get("skill")))
    lessons = content.lessons_for_skill(skill.id) if skill else []
    if skill is None or not lessons:
        return Screen((texts.NO_LESSONS,), (OTHER_SKILL, MENU))
    completed = turn.learner.completed_lessons
    choices = tuple(
        Choice(f"l.{lesson.id}", ("✅ " if lesson.id in completed else "") + lesson.title)
        for lesson in lessons
    )
    return Screen((texts.SKILL_LESSONS.format(skill=skill.title),), (*choices, OTHER_SKILL, MENU))


def handle_skill_lessons(turn: Turn, choice: Choice | None, text: str | None) -> Decision:
    """Start the chosen lesson."""
    if choice is MENU:
        return Move(State.MENU)
    if choice is OTHER_SKILL:
        return Move(State.SKILLS)
    lesson = turn.world.content.lessons.get(choice.id.removeprefix("l.")) if choice else None
    return start_lesson(lesson) if lesson else Stay((texts.UNKNOWN,))


def _topic_choices(turn: Turn) -> tuple[Choice, ...]:
    topics = turn.data.get("topics") or []
    assistant = turn.world.assistant
    return tuple(Choice(f"t.{topic}", assistant.topic_title(str(topic))) for topic in topics)


def ask_screen(turn: Turn) -> Screen:
    """Invite a question, offer the lesson that answers the last one, or the nearest topics."""
    lesson_id = turn.data.get("lesson")
    if lesson_id and lesson_id in turn.world.content.lessons:
        title = turn.world.content.lessons[lesson_id].title
        return Screen((texts.ASK_FOUND.format(title=title),), (STUDY, ASK_AGAIN, MENU))
    if turn.data.get("topics"):
        return Screen((texts.ASK_TOPICS,), (*_topic_choices(turn), VOLUNTEER, MENU))
    if turn.data.get("answered"):
        return Screen((texts.ASK_MORE,), (ASK_AGAIN, MENU))
    return Screen((texts.ASK_PROMPT,), (VOLUNTEER, MENU))


def handle_ask(turn: Turn, choice: Choice | None, text: str | None) -> Decision:
    """Answer the question typed, or follow the offered lesson."""
    if choice is MENU:
        return Move(State.MENU)
    if choice is STUDY:
        lesson = turn.world.content.lessons.get(str(turn.data.get("lesson")))
        return start_lesson(lesson) if lesson else Move(State.ASK)
    if choice is ASK_AGAIN:
        return Move(State.ASK)
    if choice is VOLUNTEER:
        return Stay((texts.VOLUNTEER_HELP,))
    if choice is not None and choice.id.startswith("t."):
        question = str(turn.data.get("q") or "")
        found = turn.world.assistant.answer_in_topic(question, choice.id.removeprefix("t."))
        if found is not None:
            return _answered(found)
    if text and text.strip():
        return answer_question(turn, text)
    return Stay((texts.ASK_PROMPT,))


def _answered(found: Suggestion, asked: AskedQuestion | None = None) -> Move:
    """Show the answer, then offer its lesson (or another question)."""
    before = (found.answer,) if found.answer else ()
    data: dict[str, object] = {"answered": True}
    if found.lesson_id:
        data["lesson"] = found.lesson_id
    return Move(State.ASK, data, before, asked=asked)


def answer_question(turn: Turn, question: str) -> Decision:
    """Ask the assistant; when it is not sure, say so and offer the nearest topics."""
    assistant = turn.world.assistant
    suggestion = assistant.suggest(question)
    folded = fold(question)[:QUESTION_MAX]
    if suggestion is not None:
        return _answered(suggestion, AskedQuestion(folded, suggestion.topic, True))
    topics = assistant.closest_topics(question, limit=3)
    data = {"q": question[:QUESTION_MAX], "topics": topics} if topics else {}
    asked = AskedQuestion(folded, None, False)
    return Move(State.ASK, data, before=(texts.ASK_NOT_SURE,), asked=asked)


def help_screen(turn: Turn) -> Screen:
    """How to use the assistant, with the way to delete one's data one tap away."""
    # Deleting lives here, not in the crowded main menu: one level down, harder to tap by
    # mistake on a small phone, and "🏠 Về menu" comes first (a habitual "1" is harmless).
    return Screen((texts.HELP,), (MENU, DELETE_MINE))


def handle_help(turn: Turn, choice: Choice | None, text: str | None) -> Decision:
    """Back to the menu, or on to the deletion's confirmation; typed text is a question."""
    if choice is MENU:
        return Move(State.MENU)
    if choice is DELETE_MINE:
        return Move(State.CONFIRM_DELETE)
    if text and text.strip():
        return answer_question(turn, text)
    return Stay((texts.UNKNOWN,))


def confirm_delete_screen(turn: Turn) -> Screen:
    """Ask once more before erasing, saying what goes and what the commune keeps."""
    # The safe answer first: on Zalo a habitual "1" keeps everything.
    return Screen((texts.DELETE_CONFIRM,), (DELETE_NO, DELETE_YES))


def handle_confirm_delete(turn: Turn, choice: Choice | None, text: str | None) -> Decision:
    """Erase the learner's data, or keep it."""
    if choice is DELETE_YES:
        return Outcome([Reply(texts.DELETE_DONE)], delete=True)
    if choice is DELETE_NO:
        back = State.MENU if turn.learner.profile.target_group else State.PROFILE_GROUP
        return Move(back, before=(texts.DELETE_CANCELLED,))
    return Stay((texts.UNKNOWN,))
