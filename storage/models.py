"""SQLModel tables for learners, their consent, conversation state and learning history.

The migration in `storage/migrations/versions` creates exactly these tables; a test compares
them, so a change here needs a new migration.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlmodel import Field, SQLModel

RAW_TEXT_MAX = 1000
NICKNAME_MAX = 40
ORG_MAX = 120
CODE_MAX = 16
START_PAYLOAD_MAX = 64
LAST_ERROR_MAX = 500
CONSENT_METHODS = frozenset({"self", "in_person"})
INBOX_STATUSES = ("pending", "done", "dead")


def utcnow() -> datetime:
    """Return the current time as a timezone-aware UTC datetime."""
    return datetime.now(UTC)


def dump_json(value: Any, *, ensure_ascii: bool = True) -> str:
    """Serialise conversation data to JSON the same way for every backend."""
    # Mappings other than dict (e.g. MappingProxyType from frozen records) are valid data too.
    return json.dumps(value, default=_json_default, ensure_ascii=ensure_ascii)


def plain_data(data: Mapping[str, Any]) -> dict[str, Any]:
    """Return conversation data as the plain JSON dict that storage keeps and a reload returns."""
    # Round-tripping here makes every backend fail early, and alike, on unserialisable data.
    result: dict[str, Any] = json.loads(dump_json(data))
    return result


def _json_default(value: Any) -> Any:
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"conversation data is not JSON serialisable: {type(value).__name__}")


def clean_raw_text(text: str | None) -> str | None:
    """Make a learner's typed text storable: no NUL, valid UTF-8, at most RAW_TEXT_MAX chars."""
    return None if text is None else storable_text(text, RAW_TEXT_MAX)


def clean_start_payload(payload: str | None) -> str | None:
    """Make a deep-link payload storable: no NUL, valid UTF-8, at most START_PAYLOAD_MAX chars."""
    # Telegram sends at most 64 characters, but anyone can type "/start <anything>"; a stray
    # long payload is not worth failing a learner's step (or PostgreSQL's VARCHAR(64)) for.
    return None if payload is None else storable_text(payload, START_PAYLOAD_MAX)


def storable_text(text: str, limit: int) -> str:
    """Return text without NUL, encodable as UTF-8 and at most `limit` characters long."""
    # PostgreSQL text cannot hold NUL, and lone surrogates (possible from JSON input) cannot be
    # encoded at all; neither is worth failing a learner's step for.
    text = text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    return text[:limit]


def insert_ignoring_duplicates(
    dialect: Dialect, table: sa.Table, unique_columns: Sequence[str]
) -> sa.Insert:
    """Return an INSERT into `table` that inserts nothing when `unique_columns` already exist."""
    # A plain INSERT that loses a race raises, and on PostgreSQL aborts the whole transaction;
    # ON CONFLICT DO NOTHING waits for the other writer and then quietly inserts nothing.
    if dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=unique_columns)
    if dialect.name == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing(index_elements=unique_columns)
    raise NotImplementedError(f"unsupported database: {dialect.name}")


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """A timestamp column that always stores and returns timezone-aware UTC datetimes."""

    # SQLite keeps no offset and PostgreSQL returns the session's zone, so normalise both ways.
    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Refuse naive datetimes and convert aware ones to UTC."""
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime: use datetime.now(UTC)")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return the stored time as an aware UTC datetime."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Learner(SQLModel, table=True):
    """One chat on one channel that has consented; the statistics' unit of counting."""

    __tablename__ = "learner"
    # AUTOINCREMENT on SQLite stops a deleted learner's id being reused, so a stale step for
    # the deleted learner can never land in a newcomer's conversation.
    __table_args__ = (
        sa.UniqueConstraint("channel", "chat_id", name="uq_learner_channel_chat_id"),
        # Coverage counts learners per (target group, hamlet): storage/stats.py.
        sa.Index("ix_learner_target_group_hamlet_id", "target_group", "hamlet_id"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str
    chat_id: str
    target_group: str | None = None
    hamlet_id: str | None = None
    birth_year: int | None = None
    # The deep-link payload (`/start <payload>`) the learner last arrived with, e.g. a
    # volunteer's or a hamlet's link, so officials can see which outreach works.
    start_payload: str | None = Field(default=None, max_length=START_PAYLOAD_MAX)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    # The volunteer (a learner id) whose referral link or code brought this learner.
    # Plain integers, no foreign keys: learners are de-identified, not deleted (see
    # storage/repository.py delete_learner), and SQLite cannot add a constrained column.
    referred_by: int | None = Field(default=None, index=True)
    # For a resident without a phone: the volunteer who created the profile, and the
    # nickname the volunteer knows them by ("bà Tư xóm 3"). On deletion the nickname is
    # erased; referred_by/assisted_by stay, as the volunteer's record, not the resident's.
    assisted_by: int | None = Field(default=None, index=True)
    nickname: str | None = Field(default=None, max_length=NICKNAME_MAX)


class ConsentRecord(SQLModel, table=True):
    """A consent given by a learner (themselves or in person through a volunteer)."""

    __tablename__ = "consent"

    id: int | None = Field(default=None, primary_key=True)
    learner_id: int = Field(foreign_key="learner.id", ondelete="CASCADE", index=True)
    version: str
    method: str
    given_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class Conversation(SQLModel, table=True):
    """The learner's current step, versioned for optimistic locking between workers."""

    __tablename__ = "conversation"

    learner_id: int = Field(primary_key=True, foreign_key="learner.id", ondelete="CASCADE")
    state: str
    data: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    version: int
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class ProgressEventRecord(SQLModel, table=True):
    """One step of a learner's progress through a lesson."""

    __tablename__ = "progress_event"
    # Statistics filter by kind first: passed lessons of a core path, completions per week.
    __table_args__ = (
        sa.Index("ix_progress_event_kind_lesson_id", "kind", "lesson_id"),
        sa.Index("ix_progress_event_kind_created_at", "kind", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    learner_id: int = Field(foreign_key="learner.id", ondelete="CASCADE", index=True)
    lesson_id: str = Field(index=True)
    kind: str
    score: int | None = None
    total: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime, index=True)
    # The volunteer (a learner id) who ran this step with the learner on their own phone.
    helper_id: int | None = Field(default=None, index=True)


class QuizAnswerRecord(SQLModel, table=True):
    """One answer to one quiz question."""

    __tablename__ = "quiz_answer"

    id: int | None = Field(default=None, primary_key=True)
    learner_id: int = Field(foreign_key="learner.id", ondelete="CASCADE", index=True)
    lesson_id: str
    question_id: str
    attempt: int
    option_index: int | None = None
    correct: bool
    raw_text: str | None = Field(default=None, max_length=RAW_TEXT_MAX)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class AppliedUpdate(SQLModel, table=True):
    """A platform update whose step was written, so a redelivery is never applied twice."""

    __tablename__ = "applied_update"
    __table_args__ = (
        sa.UniqueConstraint("channel", "update_id", name="uq_applied_update_channel_update_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str
    update_id: str
    learner_id: int = Field(foreign_key="learner.id", ondelete="CASCADE", index=True)
    applied_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class InboxUpdate(SQLModel, table=True):
    """A raw platform update, stored before it is answered and processed at least once."""

    __tablename__ = "inbox_update"
    # AUTOINCREMENT on SQLite: workers report back by id, so a late report about a purged
    # item must never land on a newer one that reused its id.
    __table_args__ = (
        sa.UniqueConstraint("channel", "update_key", name="uq_inbox_update_channel_update_key"),
        sa.Index("ix_inbox_update_status_next_attempt_at", "status", "next_attempt_at"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str
    # The platform's own id: Telegram's update_id, Zalo's message_id.
    update_key: str
    # JSON as text: stored alike on every backend, parsed only by the worker that processes it.
    payload: str = Field(sa_type=sa.Text)
    status: str = "pending"
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    processed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    last_error: str | None = Field(default=None, max_length=LAST_ERROR_MAX)


OFFICIAL_ROLES = ("admin", "viewer", "hamlet")
OFFICIAL_NAME_MAX = 80
TOKEN_HASH_LENGTH = 64
AUDIT_METHOD_MAX = 16
AUDIT_PATH_MAX = 300


class Official(SQLModel, table=True):
    """A commune official's API token: who holds it, what it may read, and whether it is revoked."""

    __tablename__ = "official"
    # AUTOINCREMENT on SQLite: audit entries keep an official's id without a foreign key, so a
    # deleted official's id must never be handed to someone else.
    __table_args__ = (
        sa.UniqueConstraint("token_hash", name="uq_official_token_hash"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    # Unique among tokens that are not revoked; checked in code (storage/officials.py).
    name: str = Field(max_length=OFFICIAL_NAME_MAX)
    role: str
    hamlet_id: str | None = None
    # SHA-256 hex of the token, never the token itself. Tokens are 32 random bytes, so nobody
    # can search that space: a plain, unsalted hash is enough, and it can be looked up by
    # value. Slow password hashes (bcrypt, argon2) protect guessable secrets, not these.
    token_hash: str = Field(max_length=TOKEN_HASH_LENGTH)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class AuditLogEntry(SQLModel, table=True):
    """One request to the officials' API: who, what, when, and the status it got."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    # No foreign key: the trail must outlive the official it names, so the name and role are
    # copied too. None when the request was not authenticated.
    official_id: int | None = None
    official_name: str | None = Field(default=None, max_length=OFFICIAL_NAME_MAX)
    role: str | None = None
    method: str = Field(max_length=AUDIT_METHOD_MAX)
    path: str = Field(max_length=AUDIT_PATH_MAX)
    status: int
    at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime, index=True)


QUESTION_TEXT_MAX = 300


class QuestionLog(SQLModel, table=True):
    """A free-text question put to the assistant, folded and anonymous, for content authors."""

    __tablename__ = "question_log"

    id: int | None = Field(default=None, primary_key=True)
    asked_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime, index=True)
    topic: str | None = None
    answered: bool
    # The question folded (bot.textnorm.fold) and cut at QUESTION_TEXT_MAX; no learner id.
    text: str = Field(max_length=QUESTION_TEXT_MAX)


class VolunteerInvite(SQLModel, table=True):
    """An invite code an organisation hands to its volunteers (`hocvuso volunteers invite`)."""

    __tablename__ = "volunteer_invite"
    __table_args__ = (sa.UniqueConstraint("code_hash", name="uq_volunteer_invite_code_hash"),)

    id: int | None = Field(default=None, primary_key=True)
    org: str = Field(max_length=ORG_MAX)
    # SHA-256 hex of the code; the code itself is printed once.
    code_hash: str = Field(max_length=TOKEN_HASH_LENGTH)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class Volunteer(SQLModel, table=True):
    """A learner who joined with an invite code: their organisation and referral code."""

    __tablename__ = "volunteer"
    __table_args__ = (sa.UniqueConstraint("referral_code", name="uq_volunteer_referral_code"),)

    learner_id: int = Field(primary_key=True, foreign_key="learner.id", ondelete="CASCADE")
    org: str = Field(max_length=ORG_MAX)
    invite_id: int | None = None
    # Short, unambiguous (no 0/O, 1/I): typed on Zalo, or in a Telegram link as ref-<code>.
    referral_code: str = Field(max_length=CODE_MAX)
    joined_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class HandsOnCheck(SQLModel, table=True):
    """A skill a volunteer saw the learner do ("đã cài VNeID mức 2"), signed off once."""

    __tablename__ = "hands_on_check"
    __table_args__ = (
        sa.UniqueConstraint("learner_id", "check_id", name="uq_hands_on_check_learner_check"),
    )

    id: int | None = Field(default=None, primary_key=True)
    learner_id: int = Field(foreign_key="learner.id", ondelete="CASCADE", index=True)
    check_id: str = Field(max_length=40)
    signed_by: int | None = None  # the volunteer's learner id
    # For the "confirmed on VNeID / the national platform" status: the date shown there.
    confirmed_on: date | None = None
    signed_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class ReviewItem(SQLModel, table=True):
    """A quiz question the learner got wrong, due again for a short review."""

    __tablename__ = "review_item"

    learner_id: int = Field(primary_key=True, foreign_key="learner.id", ondelete="CASCADE")
    lesson_id: str = Field(primary_key=True)
    question_id: str = Field(primary_key=True)
    due_at: datetime = Field(sa_type=UtcDateTime, index=True)
    interval_days: int = 1


class Reminder(SQLModel, table=True):
    """A learner's weekly reminder, opted into; one row, rescheduled after each send."""

    __tablename__ = "reminder"

    learner_id: int = Field(primary_key=True, foreign_key="learner.id", ondelete="CASCADE")
    next_at: datetime = Field(sa_type=UtcDateTime, index=True)
    last_sent_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


class Certificate(SQLModel, table=True):
    """A certificate for completing a group's core path, checkable by its code."""

    __tablename__ = "certificate"

    code: str = Field(primary_key=True, max_length=CODE_MAX)
    # None once the learner deleted their data (the certificate is then withdrawn too).
    learner_id: int | None = Field(default=None, index=True)
    initials: str | None = Field(default=None, max_length=12)
    hamlet_id: str | None = None
    target_group: str
    issued_on: date
    lessons: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    withdrawn_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class LearnerMilestone(SQLModel, table=True):
    """When a learner completed their core path, was confirmed on VNeID, passed a hands-on check.

    A rollup of progress_event and hands_on_check, kept exact by triggers: storage/rollup.py.
    """

    __tablename__ = "learner_milestone"

    learner_id: int = Field(primary_key=True, foreign_key="learner.id", ondelete="CASCADE")
    # Copies of the learner's own columns, kept by the same triggers (migration 0007).
    target_group: str | None = None
    hamlet_id: str | None = None
    created_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    core_completed_at: datetime | None = Field(default=None, sa_type=UtcDateTime, index=True)
    confirmed_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    hands_on_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class MilestoneCoreLesson(SQLModel, table=True):
    """The core paths `learner_milestone` is computed with (storage/rollup.py)."""

    __tablename__ = "milestone_core_lesson"

    target_group: str = Field(primary_key=True)
    lesson_id: str = Field(primary_key=True)


class MilestoneState(SQLModel, table=True):
    """One row: the fingerprint of the core paths `learner_milestone` is exact for."""

    __tablename__ = "milestone_state"

    id: int = Field(primary_key=True)
    fingerprint: str = Field(max_length=64)
