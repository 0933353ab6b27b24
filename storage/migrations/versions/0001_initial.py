"""Learners, consent, conversation state, progress events and quiz answers.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _learner_fk() -> sa.ForeignKey:
    return sa.ForeignKey("learner.id", ondelete="CASCADE")


def upgrade() -> None:
    """Create the first schema."""
    op.create_table(
        "learner",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("chat_id", sa.String(), nullable=False),
        sa.Column("target_group", sa.String(), nullable=True),
        sa.Column("hamlet_id", sa.String(), nullable=True),
        sa.Column("birth_year", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("channel", "chat_id", name="uq_learner_channel_chat_id"),
        # Never reuse a deleted learner's id on SQLite (PostgreSQL sequences never do).
        sqlite_autoincrement=True,
    )
    op.create_table(
        "consent",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("learner_id", sa.Integer(), _learner_fk(), nullable=False),
        sa.Column("version", sa.String(), nullable=False),
        sa.Column("method", sa.String(), nullable=False),
        sa.Column("given_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_consent_learner_id", "consent", ["learner_id"])
    op.create_table(
        "conversation",
        sa.Column("learner_id", sa.Integer(), _learner_fk(), primary_key=True, autoincrement=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "progress_event",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("learner_id", sa.Integer(), _learner_fk(), nullable=False),
        sa.Column("lesson_id", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("total", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_progress_event_learner_id", "progress_event", ["learner_id"])
    op.create_index("ix_progress_event_lesson_id", "progress_event", ["lesson_id"])
    op.create_index("ix_progress_event_created_at", "progress_event", ["created_at"])
    op.create_table(
        "quiz_answer",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("learner_id", sa.Integer(), _learner_fk(), nullable=False),
        sa.Column("lesson_id", sa.String(), nullable=False),
        sa.Column("question_id", sa.String(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("option_index", sa.Integer(), nullable=True),
        sa.Column("correct", sa.Boolean(), nullable=False),
        sa.Column("raw_text", sa.String(length=1000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_quiz_answer_learner_id", "quiz_answer", ["learner_id"])


def downgrade() -> None:
    """Drop the first schema."""
    op.drop_table("quiz_answer")
    op.drop_table("progress_event")
    op.drop_table("conversation")
    op.drop_table("consent")
    op.drop_table("learner")
