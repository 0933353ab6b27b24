"""Weekly reminders on SQLite/PostgreSQL: one `reminder` row per learner who opted in.

The rows are the schedule, so a restart loses nothing: whatever is due is found again by the
next process. Turning reminders on or off is written inside the step's transaction
(`load_reminder`, `write_reminder`). Sending workers `claim_due`: in one transaction they
pick due rows (PostgreSQL skips rows another worker holds, `FOR UPDATE SKIP LOCKED`; SQLite
takes the write lock first, `BEGIN IMMEDIATE`) and move each to its next week with an UPDATE
conditional on the row still being due, so only one worker ever wins a reminder. A send that
fails is put back with `retry`, due again soon instead of next week.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel

from storage.models import Learner, Reminder
from storage.records import ReminderChange

_tables = SQLModel.metadata.tables
_reminder = _tables[str(Reminder.__tablename__)]
_learner = _tables[str(Learner.__tablename__)]

# Belt and braces for "at most once a week": a row sent less than this long ago is never
# claimed, whatever its next_at says.
MIN_GAP = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class DueReminder:
    """A claimed reminder: whom to send it to, and what `retry` needs to put it back."""

    learner_id: int
    channel: str
    chat_id: str
    # When the claim rescheduled it to (its next week), and its last send before the claim.
    next_at: datetime
    previous_sent_at: datetime | None


def load_reminder(connection: Connection, learner_id: int) -> datetime | None:
    """When the learner's next reminder is due, or None when they have not opted in."""
    found: datetime | None = connection.execute(
        sa.select(_reminder.c.next_at).where(_reminder.c.learner_id == learner_id)
    ).scalar_one_or_none()
    return found


def write_reminder(
    connection: Connection, learner_id: int, change: ReminderChange | None, now: datetime
) -> None:
    """Turn the learner's reminders on (due at `change.next_at`) or off, inside a step."""
    if change is None:
        return
    if change.next_at is None:
        delete_reminder(connection, learner_id)
        return
    # Update, else insert: the conversation's version lock already serialises this
    # learner's writers, so no other step can insert the row in between.
    updated = connection.execute(
        sa.update(_reminder)
        .where(_reminder.c.learner_id == learner_id)
        .values(next_at=change.next_at)
    )
    if updated.rowcount == 0:
        connection.execute(
            sa.insert(_reminder).values(
                learner_id=learner_id, next_at=change.next_at, last_sent_at=None, created_at=now
            )
        )


def delete_reminder(connection: Connection, learner_id: int) -> None:
    """Forget the learner's reminder (they stopped it, or deleted their data)."""
    connection.execute(sa.delete(_reminder).where(_reminder.c.learner_id == learner_id))


def _is_due(now: datetime) -> sa.ColumnElement[bool]:
    """Due at `now`, and not sent in the last seven days."""
    return sa.and_(
        _reminder.c.next_at <= now,
        sa.or_(_reminder.c.last_sent_at.is_(None), _reminder.c.last_sent_at <= now - MIN_GAP),
    )


class SqlReminders:
    """Due reminders for the sending loop, safe with several workers and processes."""

    def __init__(self, engine: Engine) -> None:
        """Use an engine made by `storage.db.make_engine` and already migrated."""
        self.engine = engine

    def claim_due(
        self,
        now: datetime,
        next_at: datetime,
        channels: Collection[str],
        limit: int = 20,
    ) -> list[DueReminder]:
        """Take up to `limit` reminders due at `now`, rescheduling each to `next_at`."""
        if limit <= 0 or not channels:
            return []
        due = (
            sa.select(
                _reminder.c.learner_id,
                _reminder.c.next_at,
                _reminder.c.last_sent_at,
                _learner.c.channel,
                _learner.c.chat_id,
            )
            .join(_learner, _learner.c.id == _reminder.c.learner_id)
            .where(_is_due(now), _learner.c.channel.in_(sorted(channels)))
            .order_by(_reminder.c.next_at, _reminder.c.learner_id)
            .limit(limit)
            # PostgreSQL: rows another worker is claiming are skipped, not waited for. SQLite
            # renders nothing here; BEGIN IMMEDIATE below makes this transaction the only writer.
            .with_for_update(of=_reminder, skip_locked=True)
        )
        claimed: list[DueReminder] = []
        immediate = self.engine.execution_options(sqlite_immediate=True)
        with immediate.begin() as connection:
            for row in connection.execute(due).all():
                # Conditional on the row still being due: a worker that read it before
                # another moved it on to next week updates nothing, and so sends nothing.
                won = connection.execute(
                    sa.update(_reminder)
                    .where(_reminder.c.learner_id == row.learner_id, _is_due(now))
                    .values(next_at=next_at, last_sent_at=now)
                ).rowcount
                if won:
                    claimed.append(
                        DueReminder(
                            learner_id=row.learner_id,
                            channel=row.channel,
                            chat_id=row.chat_id,
                            next_at=next_at,
                            previous_sent_at=row.last_sent_at,
                        )
                    )
        return claimed

    def retry(self, item: DueReminder, at: datetime) -> bool:
        """A send failed: make the reminder due again at `at`, as if never claimed."""
        with self.engine.begin() as connection:
            # Only if still as the claim left it: a learner who stopped (or restarted)
            # reminders meanwhile keeps their own choice.
            updated = connection.execute(
                sa.update(_reminder)
                .where(
                    _reminder.c.learner_id == item.learner_id,
                    _reminder.c.next_at == item.next_at,
                )
                .values(next_at=at, last_sent_at=item.previous_sent_at)
            )
        return bool(updated.rowcount)

    def next_due_at(self, channels: Collection[str]) -> datetime | None:
        """When the earliest reminder on these channels is due, or None if there is none."""
        if not channels:
            return None
        with self.engine.connect() as connection:
            earliest: datetime | None = connection.execute(
                sa.select(sa.func.min(_reminder.c.next_at))
                .join(_learner, _learner.c.id == _reminder.c.learner_id)
                .where(_learner.c.channel.in_(sorted(channels)))
            ).scalar_one()
        return earliest
