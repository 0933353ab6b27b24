"""A per-learner rollup of the coverage milestones, kept exact by triggers.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.migrations.rollup_v1 import drop_triggers, install_triggers

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=True)


def upgrade() -> None:
    """New tables and triggers only (no rebuild of existing tables on SQLite).

    The rollup is empty and has no fingerprint until the app's start-up (storage.rollup
    .sync_rollup) fills it from the raw events; until then the statistics read the raw rows.
    """
    op.create_table(
        "learner_milestone",
        sa.Column(
            "learner_id",
            sa.Integer(),
            sa.ForeignKey("learner.id", ondelete="CASCADE"),
            primary_key=True,
            autoincrement=False,
        ),
        _when("core_completed_at"),
        _when("confirmed_at"),
        _when("hands_on_at"),
    )
    op.create_index(
        "ix_learner_milestone_core_completed_at", "learner_milestone", ["core_completed_at"]
    )
    op.create_table(
        "milestone_core_lesson",
        sa.Column("target_group", sa.String(), primary_key=True),
        sa.Column("lesson_id", sa.String(), primary_key=True),
    )
    op.create_table(
        "milestone_state",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
    )
    install_triggers(op.get_bind())


def downgrade() -> None:
    """Drop the triggers and the rollup (the raw rows are untouched)."""
    drop_triggers(op.get_bind())
    for table in ("milestone_state", "milestone_core_lesson", "learner_milestone"):
        op.drop_table(table)
