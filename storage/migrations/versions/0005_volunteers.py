"""Volunteers, assisted learners, hands-on checks, review items, reminders, certificates.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    """Add nullable columns in place (no table rebuild on SQLite) and the new tables."""
    op.add_column("learner", sa.Column("referred_by", sa.Integer(), nullable=True))
    op.add_column("learner", sa.Column("assisted_by", sa.Integer(), nullable=True))
    op.add_column("learner", sa.Column("nickname", sa.String(length=40), nullable=True))
    op.create_index("ix_learner_referred_by", "learner", ["referred_by"])
    op.create_index("ix_learner_assisted_by", "learner", ["assisted_by"])
    op.add_column("progress_event", sa.Column("helper_id", sa.Integer(), nullable=True))
    op.create_index("ix_progress_event_helper_id", "progress_event", ["helper_id"])
    op.create_table(
        "volunteer_invite",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("org", sa.String(length=120), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        _when("created_at"),
        _when("expires_at", True),
        _when("revoked_at", True),
        sa.UniqueConstraint("code_hash", name="uq_volunteer_invite_code_hash"),
    )
    op.create_table(
        "volunteer",
        sa.Column(
            "learner_id",
            sa.Integer(),
            sa.ForeignKey("learner.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("org", sa.String(length=120), nullable=False),
        sa.Column("invite_id", sa.Integer(), nullable=True),
        sa.Column("referral_code", sa.String(length=16), nullable=False),
        _when("joined_at"),
        sa.UniqueConstraint("referral_code", name="uq_volunteer_referral_code"),
    )
    op.create_table(
        "hands_on_check",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "learner_id",
            sa.Integer(),
            sa.ForeignKey("learner.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("check_id", sa.String(length=40), nullable=False),
        sa.Column("signed_by", sa.Integer(), nullable=True),
        sa.Column("confirmed_on", sa.Date(), nullable=True),
        _when("signed_at"),
        sa.UniqueConstraint("learner_id", "check_id", name="uq_hands_on_check_learner_check"),
    )
    op.create_index("ix_hands_on_check_learner_id", "hands_on_check", ["learner_id"])
    op.create_table(
        "review_item",
        sa.Column(
            "learner_id",
            sa.Integer(),
            sa.ForeignKey("learner.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("lesson_id", sa.String(), primary_key=True),
        sa.Column("question_id", sa.String(), primary_key=True),
        _when("due_at"),
        sa.Column("interval_days", sa.Integer(), nullable=False),
    )
    op.create_index("ix_review_item_due_at", "review_item", ["due_at"])
    op.create_table(
        "reminder",
        sa.Column(
            "learner_id",
            sa.Integer(),
            sa.ForeignKey("learner.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        _when("next_at"),
        _when("last_sent_at", True),
        _when("created_at"),
    )
    op.create_index("ix_reminder_next_at", "reminder", ["next_at"])
    op.create_table(
        "certificate",
        sa.Column("code", sa.String(length=16), primary_key=True),
        sa.Column("learner_id", sa.Integer(), nullable=True),
        sa.Column("initials", sa.String(length=12), nullable=True),
        sa.Column("hamlet_id", sa.String(), nullable=True),
        sa.Column("target_group", sa.String(), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("lessons", sa.JSON(), nullable=False),
        _when("withdrawn_at", True),
    )
    op.create_index("ix_certificate_learner_id", "certificate", ["learner_id"])


def downgrade() -> None:
    """Drop what upgrade added (volunteers, checks, reminders and certificates are lost)."""
    for table in ("certificate", "reminder", "review_item", "hands_on_check", "volunteer"):
        op.drop_table(table)
    op.drop_table("volunteer_invite")
    op.drop_index("ix_progress_event_helper_id", table_name="progress_event")
    op.drop_column("progress_event", "helper_id")
    op.drop_index("ix_learner_assisted_by", table_name="learner")
    op.drop_index("ix_learner_referred_by", table_name="learner")
    for column in ("nickname", "assisted_by", "referred_by"):
        op.drop_column("learner", column)
