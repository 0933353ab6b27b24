"""The review schedule on SQLite/PostgreSQL: questions a learner got wrong, due again later.

Read with the learner's snapshot and written inside the step's transaction, so a step that
loses the optimistic-locking race schedules nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from storage.models import ReviewItem
from storage.records import Review, ReviewChange

_review = SQLModel.metadata.tables[str(ReviewItem.__tablename__)]


def load_reviews(connection: Connection, learner_id: int) -> tuple[Review, ...]:
    """Every review scheduled for the learner, by due time, then lesson and question id."""
    rows = connection.execute(
        sa.select(
            _review.c.lesson_id,
            _review.c.question_id,
            _review.c.due_at,
            _review.c.interval_days,
        )
        .where(_review.c.learner_id == learner_id)
        .order_by(_review.c.due_at, _review.c.lesson_id, _review.c.question_id)
    ).all()
    return tuple(
        Review(row.lesson_id, row.question_id, row.due_at, row.interval_days) for row in rows
    )


def write_reviews(connection: Connection, learner_id: int, changes: Iterable[ReviewChange]) -> None:
    """Apply review changes in order: replace a question's schedule, or drop it."""
    for change in changes:
        # Delete then insert rather than an upsert: the same statements on both databases,
        # and the conversation's version lock already serialises this learner's writers.
        connection.execute(
            sa.delete(_review).where(
                _review.c.learner_id == learner_id,
                _review.c.lesson_id == change.lesson_id,
                _review.c.question_id == change.question_id,
            )
        )
        if change.due_at is not None:
            connection.execute(
                sa.insert(_review).values(
                    learner_id=learner_id,
                    lesson_id=change.lesson_id,
                    question_id=change.question_id,
                    due_at=change.due_at,
                    interval_days=change.interval_days,
                )
            )


def delete_reviews(connection: Connection, learner_id: int) -> None:
    """Erase the learner's whole review schedule."""
    connection.execute(sa.delete(_review).where(_review.c.learner_id == learner_id))


def checked_changes(changes: Iterable[ReviewChange]) -> tuple[ReviewChange, ...]:
    """The changes with due times in UTC; a naive due time is refused, as the SQL column does."""
    out = []
    for change in changes:
        due = change.due_at
        if due is not None:
            if due.tzinfo is None or due.utcoffset() is None:
                raise ValueError("naive datetime: use datetime.now(UTC)")
            change = replace(change, due_at=due.astimezone(UTC))
        out.append(change)
    return tuple(out)
