"""The steps of a conversation, stored per learner in the database."""

from enum import StrEnum


class State(StrEnum):
    """Where a learner is in the conversation (stored by value; never rename a value)."""

    PROFILE_GROUP = "profile_group"
    PROFILE_HAMLET = "profile_hamlet"
    PROFILE_BIRTH_YEAR = "profile_birth_year"
    MENU = "menu"
    SKILLS = "skills"
    SKILL_LESSONS = "skill_lessons"
    LESSON = "lesson"
    QUIZ = "quiz"
    RESULT = "result"
    ASK = "ask"
    CONFIRM_DELETE = "confirm_delete"
