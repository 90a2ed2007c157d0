"""The Telegram bot's own tables: conversation state, department chat links and codes, seen update ids."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow


class BotState(Base):
    """One persisted piece of the bot's memory, so a restart resumes every chat where it was.

    scope is "conversation:<name>" (key = the conversation key, e.g. "chat_id,user_id"),
    "user" (key = user id) or "chat" (key = chat id).
    """

    __tablename__ = "bot_state"
    __table_args__ = (UniqueConstraint("scope", "key", name="uq_bot_state_scope_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(60))
    key: Mapped[str] = mapped_column(String(100))
    data: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class TelegramLinkCode(Base):
    """A one-time code a department user creates on the staff pages and sends to the bot from a chat."""

    __tablename__ = "telegram_link_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_chat_id: Mapped[int | None] = mapped_column(BigInteger)


class TelegramChatLink(Base):
    """A department's Telegram chat; buttons pressed there act as the user who linked it."""

    __tablename__ = "telegram_chat_links"

    department_code: Mapped[str] = mapped_column(ForeignKey("departments.code"), primary_key=True)
    # Group ids (-100…) do not fit 32 bits, hence BigInteger.
    chat_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    linked_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProcessedUpdate(Base):
    """Update ids already handled by the webhook: Telegram redelivers when it saw no answer in time."""

    __tablename__ = "telegram_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
