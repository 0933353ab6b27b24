"""SQLModel tables for learners, their consent, conversation state and learning history.

The migration in `storage/migrations/versions` creates exactly these tables; a test compares
them, so a change here needs a new migration.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlmodel import Field, SQLModel

RAW_TEXT_MAX = 1000
CONSENT_METHODS = frozenset({"self", "in_person"})


def utcnow() -> datetime:
    """Return the current time as a timezone-aware UTC datetime."""
    return datetime.now(UTC)


def dump_json(value: Any) -> str:
    """Serialise conversation data to JSON the same way for every backend."""
    # Mappings other than dict (e.g. MappingProxyType from frozen records) are valid data too.
    return json.dumps(value, default=_json_default)


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
    if text is None:
        return None
    # PostgreSQL text cannot hold NUL, and lone surrogates (possible from JSON input) cannot be
    # encoded at all; neither is worth failing a learner's step for.
    text = text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    return text[:RAW_TEXT_MAX]


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
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str
    chat_id: str
    target_group: str | None = None
    hamlet_id: str | None = None
    birth_year: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


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

    id: int | None = Field(default=None, primary_key=True)
    learner_id: int = Field(foreign_key="learner.id", ondelete="CASCADE", index=True)
    lesson_id: str = Field(index=True)
    kind: str
    score: int | None = None
    total: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime, index=True)


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
