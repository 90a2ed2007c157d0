"""Department chat links: a one-time code made on the staff pages, redeemed by sending it to the bot.

The chat then receives the department's notifications, and its buttons act as the user who made the
code, through the same work-order functions and permission checks as the pages.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from models.base import utcnow
from models.bot import TelegramChatLink, TelegramLinkCode
from models.staff import Department, Role, User
from triage.actors import Actor
from triage.errors import Forbidden, ValidationFailed

CODE_TTL = timedelta(minutes=30)
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8
INT32_MAX = 2**31 - 1


@dataclass(frozen=True)
class LinkCode:
    code: str
    expires_at: datetime


@dataclass(frozen=True)
class LinkInfo:
    department_code: str
    department_name: str
    chat_id: int
    linked_at: datetime
    linked_by: str


def _hash(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


def _require_department_user(actor: Actor) -> str:
    if not (actor.is_department and actor.department_code):
        raise Forbidden("只有承办单位用户可以绑定 Telegram 群", "department_only")
    return actor.department_code


def create_link_code(session: Session, actor: Actor, now: datetime | None = None) -> LinkCode:
    """A fresh code for the actor's department; earlier unused codes of the same user stop working."""
    department = _require_department_user(actor)
    assert actor.user_id is not None
    now = now or utcnow()
    session.execute(
        delete(TelegramLinkCode).where(
            TelegramLinkCode.user_id == actor.user_id, TelegramLinkCode.used_at.is_(None)
        )
    )
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    expires = now + CODE_TTL
    session.add(
        TelegramLinkCode(
            code_hash=_hash(code),
            department_code=department,
            user_id=actor.user_id,
            created_at=now,
            expires_at=expires,
        )
    )
    session.flush()
    return LinkCode(code=code, expires_at=expires)


def redeem_link_code(session: Session, code: str, chat_id: int, now: datetime | None = None) -> Department:
    """Link the chat to the code's department (replacing an earlier chat of that department)."""
    now = now or utcnow()
    row = session.scalar(
        select(TelegramLinkCode).where(TelegramLinkCode.code_hash == _hash(code)).with_for_update()
    )
    if row is None or row.used_at is not None or row.expires_at < now:
        raise ValidationFailed("绑定码无效或已过期，请在工作人员页面重新生成", "link_code_invalid")
    user = session.get(User, row.user_id)
    if user is None or not user.active or user.department_code != row.department_code:
        raise ValidationFailed("生成绑定码的账号已停用或已调离该单位", "link_code_invalid")
    row.used_at, row.used_chat_id = now, chat_id
    # One chat per department and one department per chat: a re-link moves both.
    session.execute(
        delete(TelegramChatLink).where(
            (TelegramChatLink.chat_id == chat_id) | (TelegramChatLink.department_code == row.department_code)
        )
    )
    session.flush()
    session.add(
        TelegramChatLink(department_code=row.department_code, chat_id=chat_id, user_id=user.id, linked_at=now)
    )
    department = session.get(Department, row.department_code)
    assert department is not None
    for other in session.scalars(select(Department).where(Department.telegram_chat_id == chat_id)):
        other.telegram_chat_id = None
    # Department.telegram_chat_id is a 32-bit column; the link table (64-bit) is what the sender uses.
    department.telegram_chat_id = chat_id if abs(chat_id) <= INT32_MAX else None
    session.flush()
    return department


def unlink(session: Session, actor: Actor) -> bool:
    department = _require_department_user(actor)
    deleted = session.execute(delete(TelegramChatLink).where(TelegramChatLink.department_code == department))
    dept = session.get(Department, department)
    if dept is not None:
        dept.telegram_chat_id = None
    session.flush()
    return bool(getattr(deleted, "rowcount", 0))


def link_info(session: Session, department_code: str) -> LinkInfo | None:
    link = session.get(TelegramChatLink, department_code)
    if link is None:
        return None
    department = session.get(Department, department_code)
    user = session.get(User, link.user_id)
    return LinkInfo(
        department_code=department_code,
        department_name=department.name if department else department_code,
        chat_id=link.chat_id,
        linked_at=link.linked_at,
        linked_by=user.display_name if user else "",
    )


def chat_for_department(session: Session, department_code: str) -> int | None:
    return session.scalar(
        select(TelegramChatLink.chat_id).where(TelegramChatLink.department_code == department_code)
    )


def actor_for_chat(session: Session, chat_id: int) -> Actor:
    """The staff actor a department chat acts as; refused when the linking user may no longer act."""
    link = session.scalar(select(TelegramChatLink).where(TelegramChatLink.chat_id == chat_id))
    if link is None:
        raise Forbidden(
            "此聊天尚未绑定承办单位，请在工作人员页面生成绑定码后发送 /link 绑定码", "chat_not_linked"
        )
    user = session.get(User, link.user_id)
    if (
        user is None
        or not user.active
        or user.role != Role.department
        or user.department_code != link.department_code
    ):
        raise Forbidden("绑定此群的账号已停用或已调离，请重新绑定", "chat_link_stale")
    actor = Actor.of(user)
    # The audit trail shows that the action came from the chat, and on whose authority.
    return Actor(
        label=f"user:{user.id} via telegram:{chat_id}"[:80],
        user_id=actor.user_id,
        role=actor.role,
        department_code=actor.department_code,
        display_name=actor.display_name,
    )
