"""The question log for unanswered questions, and indexes for the officials' statistics.

Revision ID: 0004
Revises: 0003
Create Date: 2025-03-15
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create question_log and the statistics' indexes; no existing table is rebuilt."""
    op.create_table(
        "question_log",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("topic", sa.String(), nullable=True),
        sa.Column("answered", sa.Boolean(), nullable=False),
        sa.Column("text", sa.String(length=300), nullable=False),
    )
    op.create_index("ix_question_log_asked_at", "question_log", ["asked_at"])
    # Plain CREATE INDEX: on SQLite this never touches `learner`'s rows (no batch rebuild).
    op.create_index("ix_learner_target_group_hamlet_id", "learner", ["target_group", "hamlet_id"])
    op.create_index("ix_progress_event_kind_lesson_id", "progress_event", ["kind", "lesson_id"])
    op.create_index("ix_progress_event_kind_created_at", "progress_event", ["kind", "created_at"])


def downgrade() -> None:
    """Drop what upgrade added; logged questions are lost."""
    op.drop_index("ix_progress_event_kind_created_at", table_name="progress_event")
    op.drop_index("ix_progress_event_kind_lesson_id", table_name="progress_event")
    op.drop_index("ix_learner_target_group_hamlet_id", table_name="learner")
    op.drop_index("ix_question_log_asked_at", table_name="question_log")
    op.drop_table("question_log")
