"""A partial index in the dispatcher queue's order over open tips.

Revision ID: 0007_queue_index
Revises: 0006_telegram_ids
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_queue_index"
down_revision: str | None = "0006_telegram_ids"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = "status IN ('received', 'dispatched', 'in_progress', 'replied')"


def upgrade() -> None:
    op.create_index(
        "ix_tips_queue_open",
        "tips",
        [sa.text("urgent DESC"), "due_at", "received_at"],
        postgresql_where=sa.text(OPEN),
        sqlite_where=sa.text(OPEN),
    )


def downgrade() -> None:
    op.drop_index("ix_tips_queue_open", table_name="tips")
