"""digest: job runs, digest archive, exit list changes

Revision ID: 0003_digest
Revises: 0002_bot
Create Date: 2026-11-29 04:45:58.390078
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0003_digest"
down_revision: str | None = "0002_bot"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


DIGEST_INDEXES = [
    ("tips", "ix_tips_dispatched_at", "dispatched_at"),
    ("tips", "ix_tips_closed_at", "closed_at"),
    ("assignments", "ix_assignments_sign_due_at", "sign_due_at"),
    ("assignments", "ix_assignments_due_at", "due_at"),
    ("assignments", "ix_assignments_replied_at", "replied_at"),
]


def upgrade() -> None:
    for table, name, column in DIGEST_INDEXES:
        op.create_index(name, table, [column], unique=False)
    op.create_table(
        "digest_archives",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("week", sa.String(length=8), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("generated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("headline", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_archives")),
        sa.UniqueConstraint("week", name=op.f("uq_digest_archives_week")),
    )
    op.create_table(
        "job_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job", sa.String(length=40), nullable=False),
        sa.Column("period_key", sa.String(length=60), nullable=False),
        sa.Column("ran_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_runs")),
        sa.UniqueConstraint("job", "period_key", name="uq_job_runs_job_period"),
    )
    op.create_table(
        "digest_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("archive_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["archive_id"], ["digest_archives.id"], name=op.f("fk_digest_files_archive_id_digest_archives")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_files")),
        sa.UniqueConstraint("archive_id", "name", name="uq_digest_files_archive_name"),
    )
    with op.batch_alter_table("digest_files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_digest_files_archive_id"), ["archive_id"], unique=False)

    op.create_table(
        "exit_list_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("previous_list", sa.String(length=4), nullable=False),
        sa.Column("target_list", sa.String(length=4), nullable=False),
        sa.Column("rectify_by", sa.Date(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("tip_id", sa.Integer(), nullable=True),
        sa.Column("assignment_id", sa.Integer(), nullable=True),
        sa.Column("proposed_by_user_id", sa.Integer(), nullable=True),
        sa.Column("proposed_department", sa.String(length=20), nullable=True),
        sa.Column("proposed_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("decided_by_user_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["assignment_id"], ["assignments.id"], name=op.f("fk_exit_list_changes_assignment_id_assignments")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_user_id"], ["users.id"], name=op.f("fk_exit_list_changes_decided_by_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"], ["enterprises.id"], name=op.f("fk_exit_list_changes_enterprise_id_enterprises")
        ),
        sa.ForeignKeyConstraint(
            ["proposed_by_user_id"], ["users.id"], name=op.f("fk_exit_list_changes_proposed_by_user_id_users")
        ),
        sa.ForeignKeyConstraint(["tip_id"], ["tips.id"], name=op.f("fk_exit_list_changes_tip_id_tips")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exit_list_changes")),
    )
    with op.batch_alter_table("exit_list_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_exit_list_changes_decided_at"), ["decided_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_exit_list_changes_enterprise_id"), ["enterprise_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_exit_list_changes_status"), ["status"], unique=False)


def downgrade() -> None:
    for table, name, _column in DIGEST_INDEXES:
        op.drop_index(name, table_name=table)
    with op.batch_alter_table("exit_list_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exit_list_changes_status"))
        batch_op.drop_index(batch_op.f("ix_exit_list_changes_enterprise_id"))
        batch_op.drop_index(batch_op.f("ix_exit_list_changes_decided_at"))

    op.drop_table("exit_list_changes")
    with op.batch_alter_table("digest_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_digest_files_archive_id"))

    op.drop_table("digest_files")
    op.drop_table("job_runs")
    op.drop_table("digest_archives")
