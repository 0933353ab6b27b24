"""The engine's repository on SQLite or PostgreSQL, with optimistic locking per conversation."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel

from storage.certificates import (
    CertificateRecord,
    find_certificate,
    issue_certificate,
    withdraw_certificates,
)
from storage.deidentify import deidentify_learner
from storage.models import (
    CONSENT_METHODS,
    QUESTION_TEXT_MAX,
    AppliedUpdate,
    Certificate,
    ConsentRecord,
    Conversation,
    Learner,
    ProgressEventRecord,
    QuestionLog,
    QuizAnswerRecord,
    Reminder,
    Volunteer,
    clean_raw_text,
    clean_start_payload,
    insert_ignoring_duplicates,
    plain_data,
    storable_text,
    utcnow,
)
from storage.records import (
    Changes,
    Consent,
    EventKind,
    LearnerKey,
    LearnerSnapshot,
    Profile,
    ResidentSummary,
    VolunteerInfo,
    VolunteerInvite,
)
from storage.referrals import find_referrer, write_referral
from storage.reminders import write_reminder
from storage.reviews import load_reviews, write_reviews
from storage.volunteers import find_invite, residents_of, write_volunteer_changes

_tables = SQLModel.metadata.tables
_learner = _tables[str(Learner.__tablename__)]
_consent = _tables[str(ConsentRecord.__tablename__)]
_conversation = _tables[str(Conversation.__tablename__)]
_event = _tables[str(ProgressEventRecord.__tablename__)]
_answer = _tables[str(QuizAnswerRecord.__tablename__)]
_question = _tables[str(QuestionLog.__tablename__)]
_applied = _tables[str(AppliedUpdate.__tablename__)]
_volunteer = _tables[str(Volunteer.__tablename__)]
_reminder = _tables[str(Reminder.__tablename__)]
_certificate = _tables[str(Certificate.__tablename__)]


class SqlRepository:
    """`bot.engine.ports.Repository` on a SQLAlchemy engine (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine) -> None:
        """Use an engine made by `storage.db.make_engine` and already migrated."""
        self.engine = engine

    def load(self, key: LearnerKey, update_id: str | None = None) -> LearnerSnapshot | None:
        """Return the learner's snapshot, or None when this chat has never consented.

        With `update_id`, the snapshot also says whether a step answering that platform update
        was already written (`update_applied`), read in the same statement.
        """
        applied = (
            sa.exists().where(_applied.c.channel == key.channel, _applied.c.update_id == update_id)
            if update_id is not None
            else sa.false()
        )
        certificate = (
            sa.select(_certificate.c.code)
            .where(_certificate.c.learner_id == _learner.c.id)
            .order_by(_certificate.c.issued_on, _certificate.c.code)
            .limit(1)
            .scalar_subquery()
        )
        # On SQLite one transaction reads one snapshot. On PostgreSQL (read committed) a step
        # committed between the reads can mix in; harmless, as `apply` then sees the version
        # moved on and the engine reloads. The one-to-one facts (volunteer, reminder,
        # certificate, the update) come in the learner's row: fewer round trips per step.
        with self.engine.begin() as connection:
            row = connection.execute(
                sa.select(
                    _learner.c.id,
                    _learner.c.target_group,
                    _learner.c.hamlet_id,
                    _learner.c.birth_year,
                    _learner.c.start_payload,
                    _learner.c.nickname,
                    _learner.c.referred_by,
                    _conversation.c.state,
                    _conversation.c.data,
                    _conversation.c.version,
                    _volunteer.c.org.label("volunteer_org"),
                    _volunteer.c.referral_code.label("volunteer_code"),
                    _reminder.c.next_at.label("reminder_at"),
                    certificate.label("certificate_code"),
                    applied.label("update_applied"),
                )
                .select_from(
                    _learner.join(_conversation, _conversation.c.learner_id == _learner.c.id)
                    .outerjoin(_volunteer, _volunteer.c.learner_id == _learner.c.id)
                    .outerjoin(_reminder, _reminder.c.learner_id == _learner.c.id)
                )
                .where(_learner.c.channel == key.channel, _learner.c.chat_id == key.chat_id)
            ).one_or_none()
            if row is None:
                return None
            reviews = load_reviews(connection, row.id)
            progress = connection.execute(
                sa.select(_event.c.lesson_id, _event.c.kind, sa.func.count())
                .where(
                    _event.c.learner_id == row.id,
                    _event.c.kind.in_([EventKind.QUIZ_PASSED.value, EventKind.QUIZ_STARTED.value]),
                )
                .group_by(_event.c.lesson_id, _event.c.kind)
            ).all()
        completed = frozenset(
            lesson for lesson, kind, _ in progress if kind == EventKind.QUIZ_PASSED.value
        )
        attempts = {
            lesson: count
            for lesson, kind, count in progress
            if kind == EventKind.QUIZ_STARTED.value
        }
        return LearnerSnapshot(
            learner_id=row.id,
            key=key,
            profile=Profile(
                target_group=row.target_group, hamlet_id=row.hamlet_id, birth_year=row.birth_year
            ),
            state=row.state,
            data=dict(row.data),
            version=row.version,
            completed_lessons=completed,
            quiz_attempts=attempts,
            start_payload=row.start_payload,
            volunteer=(
                VolunteerInfo(row.volunteer_org, row.volunteer_code)
                if row.volunteer_org is not None
                else None
            ),
            nickname=row.nickname,
            referred_by=row.referred_by,
            reviews=reviews,
            certificate_code=row.certificate_code,
            reminder_at=row.reminder_at,
            update_applied=bool(row.update_applied),
        )

    def enrol(
        self,
        key: LearnerKey,
        consent: Consent,
        state: str,
        data: Mapping[str, Any],
        *,
        update_id: str | None = None,
        start_payload: str | None = None,
        referred_by: int | None = None,
    ) -> LearnerSnapshot | None:
        """Create the learner, consent and conversation; None if the chat or update exists."""
        if consent.method not in CONSENT_METHODS:
            raise ValueError(f"unknown consent method: {consent.method!r}")
        stored = plain_data(data)
        payload = clean_start_payload(start_payload)
        now = utcnow()
        try:
            with self.engine.connect() as connection, connection.begin() as transaction:
                # The insert is the first statement, so SQLite takes its write lock up front.
                inserted = connection.execute(
                    sa.insert(_learner).values(
                        channel=key.channel,
                        chat_id=key.chat_id,
                        start_payload=payload,
                        created_at=now,
                    )
                )
                primary_key = inserted.inserted_primary_key
                assert primary_key is not None  # always set by a single-row insert
                learner_id: int = primary_key[0]
                connection.execute(
                    sa.insert(_consent).values(
                        learner_id=learner_id,
                        version=consent.version,
                        method=consent.method,
                        given_at=now,
                    )
                )
                connection.execute(
                    sa.insert(_conversation).values(
                        learner_id=learner_id, state=state, data=stored, version=1, updated_at=now
                    )
                )
                if update_id is not None and not self._record_update(
                    connection, learner_id, update_id, now
                ):
                    transaction.rollback()
                    return None
                referred = referred_by is not None and write_referral(
                    connection, learner_id, referred_by
                )
        except IntegrityError:
            # The unique (channel, chat_id) lost a race, or the learner simply exists already.
            return None
        return LearnerSnapshot(
            learner_id=learner_id,
            key=key,
            profile=Profile(),
            state=state,
            data=stored,
            version=1,
            start_payload=payload,
            referred_by=referred_by if referred else None,
        )

    def apply(self, learner_id: int, expected_version: int, changes: Changes) -> bool:
        """Write a step atomically if the conversation is still at `expected_version`."""
        stored = plain_data(changes.data)
        now = utcnow()
        with self.engine.connect() as connection, connection.begin() as transaction:
            # The version check is the first statement and a write: SQLite takes the write lock
            # here (waiting up to busy_timeout), PostgreSQL locks the row and re-checks it.
            updated = connection.execute(
                sa.update(_conversation)
                .where(
                    _conversation.c.learner_id == learner_id,
                    _conversation.c.version == expected_version,
                )
                .values(
                    state=changes.state,
                    data=stored,
                    version=_conversation.c.version + 1,
                    updated_at=now,
                )
            )
            if updated.rowcount == 0:
                transaction.rollback()
                return False
            if changes.update_id is not None and not self._record_update(
                connection, learner_id, changes.update_id, now
            ):
                transaction.rollback()
                return False
            if changes.certificate is not None and not issue_certificate(
                connection, learner_id, changes.certificate
            ):
                transaction.rollback()
                return False
            self._write_changes(connection, learner_id, changes, now)
            write_volunteer_changes(connection, learner_id, changes, now)
            if changes.referred_by is not None:
                write_referral(connection, learner_id, changes.referred_by)
            write_reviews(connection, learner_id, changes.reviews)
            write_reminder(connection, learner_id, changes.reminder, now)
        return True

    def find_referrer(self, code: str) -> int | None:
        """The learner id of the volunteer whose referral code this is (any case), or None."""
        return find_referrer(self.engine, code)

    def find_invite(self, code: str) -> VolunteerInvite | None:
        """The organisation of a valid volunteer invite code."""
        return find_invite(self.engine, code)

    def residents_of(self, volunteer_id: int) -> list[ResidentSummary]:
        """The residents whose profiles this volunteer created, with their progress."""
        return residents_of(self.engine, volunteer_id)

    def certificate(self, code: str) -> CertificateRecord | None:
        """The certificate with this code (any case, spaces or dashes), withdrawn or not."""
        return find_certificate(self.engine, code)

    def withdraw_certificate(self, learner_id: int) -> int:
        """Withdraw the learner's certificate and unlink it; return how many were withdrawn."""
        with self.engine.begin() as connection:
            return withdraw_certificates(connection, learner_id)

    def is_applied(self, key: LearnerKey, update_id: str) -> bool:
        """Whether a step answering this platform update (on this key's channel) was written."""
        with self.engine.connect() as connection:
            found = connection.execute(
                sa.select(_applied.c.id).where(
                    _applied.c.channel == key.channel, _applied.c.update_id == update_id
                )
            ).first()
        return found is not None

    @staticmethod
    def _record_update(
        connection: Connection, learner_id: int, update_id: str, now: datetime
    ) -> bool:
        # ON CONFLICT DO NOTHING rather than catching the unique violation: a concurrent
        # writer of the same update is waited for, and no other integrity error is mistaken
        # for a duplicate. The channel is the learner's own, read in the same statement.
        statement = (
            insert_ignoring_duplicates(connection.dialect, _applied, ("channel", "update_id"))
            .from_select(
                ["channel", "update_id", "learner_id", "applied_at"],
                sa.select(
                    _learner.c.channel,
                    sa.literal(update_id, _applied.c.update_id.type),
                    sa.literal(learner_id, _applied.c.learner_id.type),
                    sa.literal(now, _applied.c.applied_at.type),
                ).where(_learner.c.id == learner_id),
            )
            .returning(_applied.c.id)
        )
        return connection.execute(statement).first() is not None

    @staticmethod
    def _write_changes(
        connection: Connection, learner_id: int, changes: Changes, now: datetime
    ) -> None:
        learner_values: dict[str, Any] = {}
        if changes.profile is not None:
            learner_values.update(
                target_group=changes.profile.target_group,
                hamlet_id=changes.profile.hamlet_id,
                birth_year=changes.profile.birth_year,
            )
        if changes.start_payload is not None:
            learner_values["start_payload"] = clean_start_payload(changes.start_payload)
        if learner_values:
            connection.execute(
                sa.update(_learner).where(_learner.c.id == learner_id).values(**learner_values)
            )
        if changes.events:
            connection.execute(
                sa.insert(_event),
                [
                    {
                        "learner_id": learner_id,
                        "lesson_id": event.lesson_id,
                        "kind": EventKind(event.kind).value,
                        "score": event.score,
                        "total": event.total,
                        "created_at": now,
                        "helper_id": changes.helper_id,
                    }
                    for event in changes.events
                ],
            )
        if changes.asked is not None:
            connection.execute(
                sa.insert(_question),
                {
                    "asked_at": now,
                    "topic": changes.asked.topic,
                    "answered": changes.asked.answered,
                    "text": storable_text(changes.asked.text, QUESTION_TEXT_MAX),
                },
            )
        if changes.answers:
            connection.execute(
                sa.insert(_answer),
                [
                    {
                        "learner_id": learner_id,
                        "lesson_id": answer.lesson_id,
                        "question_id": answer.question_id,
                        "attempt": answer.attempt,
                        "option_index": answer.option_index,
                        "correct": answer.correct,
                        "raw_text": clean_raw_text(answer.raw_text),
                        "created_at": now,
                    }
                    for answer in changes.answers
                ],
            )

    def delete_learner(self, learner_id: int) -> None:
        """Erase the learner's personal data in one transaction; the counts stay (de-identified)."""
        # What goes and what stays, table by table: storage/deidentify.py.
        with self.engine.begin() as connection:
            deidentify_learner(connection, learner_id)
