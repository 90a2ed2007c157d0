"""Assignments: one per department on a dispatched tip (主办 lead or 协办 co-handler)."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, utcnow
from models.staff import Department
from models.tips import Tip


class AssignmentStatus(StrEnum):
    pending = "pending"  # 待签收
    accepted = "accepted"  # 已签收
    replied = "replied"  # 已反馈
    approved = "approved"  # 已审核通过
    returned = "returned"  # 已退回
    cancelled = "cancelled"  # withdrawn when the tip went back to the queue


class ExtensionState(StrEnum):
    requested = "requested"
    granted = "granted"
    refused = "refused"


class Assignment(Base):
    __tablename__ = "assignments"
    __table_args__ = (UniqueConstraint("tip_id", "department_code", "round", name="uq_assignments_round"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tip_id: Mapped[int] = mapped_column(ForeignKey("tips.id"), index=True)
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"), index=True)
    # Each dispatch of a tip is a round; a return sends it back and the next dispatch opens round + 1.
    round: Mapped[int] = mapped_column(default=1)
    lead: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(20), default=AssignmentStatus.pending, index=True)
    sign_due_at: Mapped[datetime]
    due_at: Mapped[datetime]
    signed_at: Mapped[datetime | None]
    replied_at: Mapped[datetime | None]
    approved_at: Mapped[datetime | None]
    reply_text: Mapped[str | None] = mapped_column(Text)
    return_reason: Mapped[str | None] = mapped_column(Text)
    extension_state: Mapped[str | None] = mapped_column(String(20))
    extension_days: Mapped[int | None]
    extension_reason: Mapped[str | None] = mapped_column(Text)
    escalated_at: Mapped[datetime | None]  # 督办 (set by the overdue scan)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    tip: Mapped[Tip] = relationship()
    department: Mapped[Department] = relationship()
