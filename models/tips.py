"""Tips (工单), their reporters (kept in a table of their own), attachments and training labels."""

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, utcnow
from models.crypto import EncryptedText, lookup_hash
from models.register import Enterprise


class TipStatus(StrEnum):
    received = "received"  # 已受理
    dispatched = "dispatched"  # 已派单
    in_progress = "in_progress"  # 办理中
    replied = "replied"  # 已反馈
    closed = "closed"  # 已办结
    invalid = "invalid"  # 无效件
    merged = "merged"  # 重复件
    transferred = "transferred"  # 转办 110/119/120


class TriageState(StrEnum):
    pending = "pending"
    done = "done"
    failed = "failed"  # needs manual triage (待人工分拣)


def telegram_user_key(user_id: int) -> str:
    """What `Reporter.telegram_user_key` holds for a Telegram user id."""
    return lookup_hash(f"telegram-user:{user_id}")


class Reporter(Base):
    """Who reported. Never joined into anything a department can see."""

    __tablename__ = "reporters"

    id: Mapped[int] = mapped_column(primary_key=True)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=True)
    # Encrypted at rest (models/crypto.py); only dispatchers ever read them, each view audited.
    name: Mapped[str | None] = mapped_column(EncryptedText)
    contact: Mapped[str | None] = mapped_column(EncryptedText)
    purged_at: Mapped[datetime | None]  # identity removed by `hotline retention`
    # A Telegram account identifies a person as surely as a phone number: the user id is kept only as a
    # keyed hash (`telegram_user_key`, to find the reporter's own tips) and the chat id encrypted (to send
    # replies and the 回访), so a copy of the database reveals neither.
    telegram_user_key: Mapped[str | None] = mapped_column(String(64), index=True)
    telegram_chat: Mapped[str | None] = mapped_column(EncryptedText)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Tip(Base):
    __tablename__ = "tips"

    @property
    def clock_started_at(self) -> datetime:
        """Where the handling deadlines count from: the receipt, or the latest reopening (重办)."""
        return self.reopened_at or self.received_at

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket: Mapped[str] = mapped_column(String(24), unique=True)
    query_code_hash: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    place: Mapped[str] = mapped_column(String(200), default="")
    enterprise_name: Mapped[str] = mapped_column(String(200), default="")
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    reporter_id: Mapped[int] = mapped_column(ForeignKey("reporters.id"))
    status: Mapped[str] = mapped_column(String(20), default=TipStatus.received, index=True)
    # Set by triage as a suggestion, confirmed or corrected by the dispatcher at dispatch.
    category: Mapped[str | None] = mapped_column(String(20), index=True)
    subtype: Mapped[str | None] = mapped_column(String(30))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    county_code: Mapped[str | None] = mapped_column(String(6), index=True)
    town: Mapped[str | None] = mapped_column(String(40))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    triage_state: Mapped[str] = mapped_column(String(10), default=TriageState.pending)
    analysis: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("tips.id"))
    status_reason: Mapped[str | None] = mapped_column(Text)  # invalid / transfer reason
    result_summary: Mapped[str | None] = mapped_column(Text)  # what the citizen is told at closing
    satisfaction: Mapped[str | None] = mapped_column(String(10))  # 满意 / 基本满意 / 不满意 (回访)
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # 重办: the handling deadlines of the new round count from here, not from the first receipt.
    reopened_at: Mapped[datetime | None]
    dispatched_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    due_at: Mapped[datetime | None]  # completion due date of the whole order
    rectification_due: Mapped[date | None]  # energy-limit cases: the enterprise's window
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    reporter: Mapped[Reporter] = relationship()
    enterprise: Mapped[Enterprise | None] = relationship()
    attachments: Mapped[list["Attachment"]] = relationship(back_populates="tip", order_by="Attachment.id")


# The dispatcher queue's order over open tips (triage/queue.list_queue): a page is read from this index.
_OPEN = text("status IN ('received', 'dispatched', 'in_progress', 'replied')")
Index(
    "ix_tips_queue_open",
    Tip.urgent.desc(),
    Tip.due_at,
    Tip.received_at,
    postgresql_where=_OPEN,
    sqlite_where=_OPEN,
)


class Attachment(Base):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    tip_id: Mapped[int] = mapped_column(ForeignKey("tips.id"), index=True)
    stored_name: Mapped[str] = mapped_column(String(100))
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    width: Mapped[int]
    height: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    tip: Mapped[Tip] = relationship(back_populates="attachments")


class TicketCounter(Base):
    """Per-day sequence behind readable ticket numbers (HY20261128-000123)."""

    __tablename__ = "ticket_counters"

    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    last: Mapped[int] = mapped_column(default=0)


class TipLabel(Base):
    """A dispatcher's confirmed or corrected classification: training data for the classifier."""

    __tablename__ = "tip_labels"

    id: Mapped[int] = mapped_column(primary_key=True)
    tip_id: Mapped[int] = mapped_column(ForeignKey("tips.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    category: Mapped[str] = mapped_column(String(20))
    subtype: Mapped[str] = mapped_column(String(30))
    department: Mapped[str] = mapped_column(String(20))
    county_code: Mapped[str | None] = mapped_column(String(6))
    enterprise_uscc: Mapped[str | None] = mapped_column(String(18))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    corrected: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# Tips still waiting for triage (intake/auto_triage.py sweeps those a stopped process left behind).
_PENDING = text("triage_state = 'pending'")
Index("ix_tips_triage_pending", Tip.received_at, postgresql_where=_PENDING, sqlite_where=_PENDING)
