"""When a tip was last reopened (重办): the handling deadlines of the new round count from it.

Revision ID: 0010_tip_reopened_at
Revises: 0009_audit_without_telegram_ids
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0010_tip_reopened_at"
down_revision: str | None = "0009_audit_without_telegram_ids"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tips") as batch_op:
        batch_op.add_column(sa.Column("reopened_at", models.base.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tips") as batch_op:
        batch_op.drop_column("reopened_at")
