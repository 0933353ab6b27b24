"""Officials' API tokens (hashes only) and the audit log of API requests.

Revision ID: 0003
Revises: 0002
Create Date: 2025-03-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the official and audit_log tables; existing tables are left alone."""
    # Only new tables: nothing here alters (let alone rebuilds) `learner` on SQLite.
    op.create_table(
        "official",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("hamlet_id", sa.String(), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("token_hash", name="uq_official_token_hash"),
        # Audit entries keep official ids without a foreign key: never reuse one on SQLite.
        sqlite_autoincrement=True,
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("official_id", sa.Integer(), nullable=True),
        sa.Column("official_name", sa.String(length=80), nullable=True),
        sa.Column("role", sa.String(), nullable=True),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("path", sa.String(length=300), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])


def downgrade() -> None:
    """Drop both tables; every token stops working and the audit trail is lost."""
    op.drop_index("ix_audit_log_at", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_table("official")
