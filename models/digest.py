"""Scheduled work and reports: job runs (exactly-once keys), archived digests, exit-list change proposals."""

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, utcnow
from models.register import Enterprise
from models.tips import Tip
from models.workorders import Assignment


class JobRun(Base):
    """One run of a scheduled job for one period (or one item).

    The row is inserted in the same transaction as the job's work; the UNIQUE (job, period_key) makes a
    second process's insert fail, so it rolls back and skips: each run happens exactly once.
    """

    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("job", "period_key", name="uq_job_runs_job_period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(40))
    period_key: Mapped[str] = mapped_column(String(60))  # "2026-W48", "2026-11-30T09", "assignment:12"
    ran_at: Mapped[datetime] = mapped_column(default=utcnow)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class DigestArchive(Base):
    """A generated weekly digest (周报), one per ISO week; its files are in digest_files."""

    __tablename__ = "digest_archives"

    id: Mapped[int] = mapped_column(primary_key=True)
    week: Mapped[str] = mapped_column(String(8), unique=True)  # "2026-W48"
    week_start: Mapped[date]
    generated_at: Mapped[datetime] = mapped_column(default=utcnow)
    headline: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # the figures shown in lists

    files: Mapped[list["DigestFile"]] = relationship(
        back_populates="archive", order_by="DigestFile.id", cascade="all, delete-orphan"
    )


class DigestFile(Base):
    """One file of an archived digest: the HTML, the Markdown, the XLSX workbook or a PNG chart."""

    __tablename__ = "digest_files"
    __table_args__ = (UniqueConstraint("archive_id", "name", name="uq_digest_files_archive_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    archive_id: Mapped[int] = mapped_column(ForeignKey("digest_archives.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    content_type: Mapped[str] = mapped_column(String(100))
    content: Mapped[bytes] = mapped_column(LargeBinary)

    archive: Mapped[DigestArchive] = relationship(back_populates="files")


class ExitListChangeStatus(StrEnum):
    proposed = "proposed"  # 待审批
    approved = "approved"  # 已批准 (the register is changed)
    rejected = "rejected"  # 未批准


class ExitListChange(Base):
    """A proposed change of an enterprise's 黄牌/红牌 listing: a department proposes, the bureau decides."""

    __tablename__ = "exit_list_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    previous_list: Mapped[str] = mapped_column(String(4), default="")
    target_list: Mapped[str] = mapped_column(String(4))  # "黄牌", "红牌" or "" (taken off the lists)
    rectify_by: Mapped[date | None]  # 黄牌: the date by which the enterprise must rectify
    reason: Mapped[str] = mapped_column(Text)
    tip_id: Mapped[int | None] = mapped_column(ForeignKey("tips.id"))
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignments.id"))
    proposed_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    proposed_department: Mapped[str | None] = mapped_column(String(20))
    proposed_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(10), default=ExitListChangeStatus.proposed, index=True)
    decided_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(index=True)
    decision_note: Mapped[str | None] = mapped_column(Text)

    enterprise: Mapped[Enterprise] = relationship()


# Indexes the weekly digest's range queries need (declared here, with the work that needs them, so the
# tables' own modules stay as they are): tips dispatched or closed in a week, assignments falling due.
Index("ix_tips_dispatched_at", Tip.dispatched_at)
Index("ix_tips_closed_at", Tip.closed_at)
Index("ix_assignments_sign_due_at", Assignment.sign_due_at)
Index("ix_assignments_due_at", Assignment.due_at)
Index("ix_assignments_replied_at", Assignment.replied_at)
