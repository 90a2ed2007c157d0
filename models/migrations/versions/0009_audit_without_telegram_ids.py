"""Audit events name a citizen's channel, not their Telegram account: earlier `telegram:<id>` labels go.

Revision ID: 0009_audit_without_telegram_ids
Revises: 0008_triage_pending_index
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009_audit_without_telegram_ids"
down_revision: str | None = "0008_triage_pending_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


REDACT = "UPDATE audit_events SET actor = 'telegram' WHERE actor LIKE 'telegram:%'"


def upgrade() -> None:
    """The audit trail is append-only (a trigger refuses UPDATE): lifted for this one statement, inside
    the migration's transaction, so that a reporter's identity is removed from it."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER audit_events_no_update")
        op.execute(REDACT)
        op.execute(
            "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
            "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"
        )
    else:
        op.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
        op.execute(REDACT)
        op.execute("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only")


def downgrade() -> None:
    """Nothing to restore: the ids are gone on purpose."""
