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
    HELP = "help"
    REVIEW_OFFER = "review_offer"
    REVIEW = "review"
    REVIEW_RESULT = "review_result"
    # Volunteers (see bot/engine/volunteer.py).
    VOLUNTEER = "volunteer"
    ASSIST_NAME = "assist_name"
    ASSIST_GROUP = "assist_group"
    ASSIST_HAMLET = "assist_hamlet"
    ASSIST_BIRTH_YEAR = "assist_birth_year"
    ASSIST_CONSENT = "assist_consent"
    RESIDENTS = "residents"
    RESIDENT = "resident"
    CHECKS = "checks"
    ASSISTING = "assisting"
