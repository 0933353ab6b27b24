"""The coverage rollup keeps the learner's group, hamlet and creation time in its row.

The statistics then read `learner_milestone` alone instead of joining it to every learner
(the join was most of an overview request at province scale).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.migrations import rollup_v1
from storage.rollup import drop_triggers, install_triggers

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ("target_group", "hamlet_id", "created_at")


def upgrade() -> None:
    """New nullable columns (in place on SQLite) and the new triggers.

    The fingerprint now includes the table's layout (storage.rollup.LAYOUT), so the stored
    one no longer matches: the statistics read the raw rows until the app's start-up
    (storage.rollup.sync_rollup) rebuilds the table with the new columns filled.
    """
    bind = op.get_bind()
    rollup_v1.drop_triggers(bind)
    op.add_column("learner_milestone", sa.Column("target_group", sa.String(), nullable=True))
    op.add_column("learner_milestone", sa.Column("hamlet_id", sa.String(), nullable=True))
    op.add_column(
        "learner_milestone", sa.Column("created_at", sa.DateTime(timezone=True), nullable=True)
    )
    install_triggers(bind)


def downgrade() -> None:
    """Back to 0006's triggers and columns (0006's code rebuilds the rollup at start-up)."""
    bind = op.get_bind()
    drop_triggers(bind)
    with op.batch_alter_table("learner_milestone") as batch:
        for column in _COLUMNS:
            batch.drop_column(column)
    rollup_v1.install_triggers(bind)
