"""The data: SQLAlchemy 2.0 typed tables, the engine and sessions, Alembic migrations. No business rules."""

from models import digest as digest  # registers the tables of scheduled work and reports
from models.audit import AuditEvent
from models.base import Base
from models.bot import BotState, ProcessedUpdate, TelegramChatLink, TelegramLinkCode
from models.outbox import OutboxMessage
from models.ratelimit import RateCounter
from models.register import Enterprise
from models.staff import ApiToken, Department, User
from models.tips import Attachment, Reporter, TicketCounter, Tip, TipLabel
from models.workorders import Assignment

__all__ = [
    "ApiToken",
    "Assignment",
    "Attachment",
    "AuditEvent",
    "Base",
    "BotState",
    "Department",
    "Enterprise",
    "OutboxMessage",
    "ProcessedUpdate",
    "RateCounter",
    "Reporter",
    "TelegramChatLink",
    "TelegramLinkCode",
    "TicketCounter",
    "Tip",
    "TipLabel",
    "User",
]
