"""Reporter identity encrypted at rest; purged_at for the retention purge.

Revision ID: 0004_privacy
Revises: 0003_digest
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base
from models import crypto

revision: str = "0004_privacy"
down_revision: str | None = "0003_digest"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

reporters = sa.table(
    "reporters", sa.column("id", sa.Integer), sa.column("name", sa.Text), sa.column("contact", sa.Text)
)


def upgrade() -> None:
    with op.batch_alter_table("reporters") as batch_op:
        batch_op.add_column(sa.Column("purged_at", models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.alter_column(
            "name", existing_type=sa.VARCHAR(length=60), type_=sa.Text(), existing_nullable=True
        )
        batch_op.alter_column(
            "contact", existing_type=sa.VARCHAR(length=100), type_=sa.Text(), existing_nullable=True
        )
    # Identities stored before this revision were plain text: encrypt them now (the keys are configured
    # by `hotline db upgrade` before it migrates).
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(reporters).where(sa.or_(reporters.c.name.is_not(None), reporters.c.contact.is_not(None)))
    )
    for row in rows.fetchall():
        bind.execute(
            reporters.update()
            .where(reporters.c.id == row.id)
            .values(
                name=crypto.keyring().encrypt(row.name.encode()).decode() if row.name else None,
                contact=crypto.keyring().encrypt(row.contact.encode()).decode() if row.contact else None,
            )
        )


def downgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(reporters).where(sa.or_(reporters.c.name.is_not(None), reporters.c.contact.is_not(None)))
    )
    for row in rows.fetchall():
        bind.execute(
            reporters.update()
            .where(reporters.c.id == row.id)
            .values(
                name=crypto.keyring().decrypt(row.name.encode()).decode()[:60] if row.name else None,
                contact=crypto.keyring().decrypt(row.contact.encode()).decode()[:100]
                if row.contact
                else None,
            )
        )
    with op.batch_alter_table("reporters") as batch_op:
        batch_op.alter_column(
            "contact", existing_type=sa.Text(), type_=sa.VARCHAR(length=100), existing_nullable=True
        )
        batch_op.alter_column(
            "name", existing_type=sa.Text(), type_=sa.VARCHAR(length=60), existing_nullable=True
        )
        batch_op.drop_column("purged_at")
