"""Exactly-once steps (applied_update), deep-link payloads, the inbox for platform updates.

Revision ID: 0002
Revises: 0001
Create Date: 2025-02-01
"""

from collections.abc import Sequence
from contextlib import AbstractContextManager

import sqlalchemy as sa
from alembic import op
from alembic.operations import BatchOperations

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _alter_learner_in_place() -> AbstractContextManager[BatchOperations]:
    # Batch mode for SQLite's limited ALTER TABLE, but never its copy-and-rename rebuild of
    # `learner`: with foreign keys on, dropping the old table deletes it row by row and ON
    # DELETE CASCADE empties every child table (consent, conversation, progress, answers).
    # SQLite 3.35+ adds and drops a plain column in place, so nothing is rebuilt.
    return op.batch_alter_table("learner", recreate="never")


def upgrade() -> None:
    """Add learner.start_payload and the applied_update and inbox_update tables."""
    with _alter_learner_in_place() as batch:
        batch.add_column(sa.Column("start_payload", sa.String(length=64), nullable=True))
    op.create_table(
        "applied_update",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("update_id", sa.String(), nullable=False),
        sa.Column(
            "learner_id",
            sa.Integer(),
            sa.ForeignKey("learner.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("channel", "update_id", name="uq_applied_update_channel_update_id"),
    )
    op.create_index("ix_applied_update_learner_id", "applied_update", ["learner_id"])
    op.create_table(
        "inbox_update",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("update_key", sa.String(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.UniqueConstraint("channel", "update_key", name="uq_inbox_update_channel_update_key"),
        # Workers report back by id: never reuse a purged item's id on SQLite.
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_inbox_update_status_next_attempt_at", "inbox_update", ["status", "next_attempt_at"]
    )


def downgrade() -> None:
    """Drop what upgrade added; stored deep-link payloads and inbox items are lost."""
    op.drop_table("inbox_update")
    op.drop_table("applied_update")
    with _alter_learner_in_place() as batch:
        batch.drop_column("start_payload")
