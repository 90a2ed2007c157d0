"""A partial index over tips still waiting for triage: each worker's sweep for orphans reads it.

Revision ID: 0008_triage_pending_index
Revises: 0007_queue_index
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_triage_pending_index"
down_revision: str | None = "0007_queue_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = "triage_state = 'pending'"


def upgrade() -> None:
    op.create_index(
        "ix_tips_triage_pending",
        "tips",
        ["received_at"],
        postgresql_where=sa.text(PENDING),
        sqlite_where=sa.text(PENDING),
    )


def downgrade() -> None:
    op.drop_index("ix_tips_triage_pending", table_name="tips")
