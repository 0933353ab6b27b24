"""Deleting a learner's data: erase what is personal, keep an anonymous unit for the counts.

The officials' figures (storage/stats.py) count learners per target group and hamlet, their
progress events and quiz answers. Deleting those rows would make every figure, past quarters
included, shrink whenever someone deletes their data. So a deletion de-identifies instead,
in one transaction:

- learner: the row stays as an anonymous unit of counting. `channel` becomes
  DELETED_CHANNEL and `chat_id` a fresh random value (never derived from the old one), so
  nothing links it to the chat; the chat starting again is a brand-new learner. Birth year,
  start payload and nickname are erased. Target group, hamlet and `created_at` stay: they
  are what the statistics count by. `referred_by` and `assisted_by` stay too: they are
  volunteer ids, the volunteer's own activity record (who brought in or helped someone),
  not data about the resident, and the volunteer's list of residents skips the row because
  it is no longer on the "assisted" channel.
- conversation, consent, applied_update, reminder, review_item, volunteer: deleted. A
  deleted volunteer's residents keep `assisted_by` as a plain number.
- quiz_answer: the text typed (`raw_text`) is erased; lesson, question, option and
  right-or-wrong stay for the hardest-question figures.
- progress_event and hands_on_check: kept as they are; they carry no identifier.
- certificate: unlinked (learner_id and initials erased) and withdrawn, so its code no
  longer verifies.

`question_log` is never linked to a learner, so there is nothing of theirs to find in it.
"""

from __future__ import annotations

import secrets
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from storage.certificates import withdraw_certificates
from storage.models import (
    AppliedUpdate,
    ConsentRecord,
    Conversation,
    Learner,
    QuizAnswerRecord,
    Volunteer,
    utcnow,
)
from storage.reminders import delete_reminder
from storage.reviews import delete_reviews

DELETED_CHANNEL = "deleted"

_tables = SQLModel.metadata.tables
_learner = _tables[str(Learner.__tablename__)]
_conversation = _tables[str(Conversation.__tablename__)]
_consent = _tables[str(ConsentRecord.__tablename__)]
_applied = _tables[str(AppliedUpdate.__tablename__)]
_answer = _tables[str(QuizAnswerRecord.__tablename__)]
_volunteer = _tables[str(Volunteer.__tablename__)]


def anonymous_chat_id() -> str:
    """A fresh random chat id for a de-identified learner, unrelated to any real chat."""
    return secrets.token_hex(16)


def deidentify_learner(
    connection: Connection, learner_id: int, now: datetime | None = None
) -> None:
    """Erase the learner's personal data inside the caller's transaction; keep the counts."""
    # The conversation goes first: a concurrent step's version check then finds no row
    # (SQLite takes its write lock here, PostgreSQL waits on the row and then sees it gone),
    # so nothing new is written about the learner once this commits.
    connection.execute(sa.delete(_conversation).where(_conversation.c.learner_id == learner_id))
    for table in (_applied, _consent, _volunteer):
        connection.execute(sa.delete(table).where(table.c.learner_id == learner_id))
    delete_reviews(connection, learner_id)
    delete_reminder(connection, learner_id)
    withdraw_certificates(connection, learner_id, now or utcnow())
    connection.execute(
        sa.update(_answer)
        .where(_answer.c.learner_id == learner_id, _answer.c.raw_text.is_not(None))
        .values(raw_text=None)
    )
    connection.execute(
        sa.update(_learner)
        .where(_learner.c.id == learner_id)
        .values(
            channel=DELETED_CHANNEL,
            chat_id=anonymous_chat_id(),
            birth_year=None,
            start_payload=None,
            nickname=None,
        )
    )
