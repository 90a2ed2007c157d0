"""Deliver pending outbox messages to Telegram: claim, render, send, then mark sent.

At-least-once: a message is marked `sent` only after Telegram accepted it. A claim moves the row's
`next_attempt_at` forward by a lease, so a second sender skips it and a sender killed mid-send leaves it
to be retried when the lease runs out. Errors back off exponentially; after `max_attempts` the row is
`failed`. Rows whose recipient has no Telegram chat are marked `skipped` (the web status page and the
staff pages still show everything). Only reporter and department messages are this sender's: dispatcher
and bureau messages stay pending for their own channel (staff pages, digest).
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from bot import texts
from bot.links import chat_for_department
from models.base import utcnow
from models.db import unit_of_work
from models.outbox import OutboxMessage
from models.tips import Reporter, Tip
from models.workorders import Assignment, AssignmentStatus
from triage.routing import catalogue

log = logging.getLogger(__name__)
RECIPIENTS = ("reporter", "department")
TEXT_PREVIEW_CHARS = 300


@dataclass(frozen=True)
class SenderConfig:
    max_attempts: int = 8
    base_delay: timedelta = timedelta(seconds=30)
    max_delay: timedelta = timedelta(hours=2)
    lease: timedelta = timedelta(minutes=2)
    batch: int = 50
    # Telegram: about 30 messages a second overall and one a second to the same chat.
    global_interval: float = 1 / 30
    per_chat_interval: float = 1.0
    public_url: str = ""


@dataclass(frozen=True)
class Delivery:
    outbox_id: int
    chat_id: int
    text: str
    buttons: list[list[tuple[str, str]]] = field(default_factory=list)


@dataclass
class DeliveryReport:
    sent: list[int] = field(default_factory=list)
    retried: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)


class RateLimiter:
    """Spaces sends: a minimum gap overall and per chat. Clock and sleep are injectable for tests."""

    def __init__(
        self,
        global_interval: float,
        per_chat_interval: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.global_interval, self.per_chat_interval = global_interval, per_chat_interval
        self.clock, self.sleep = clock, sleep
        self._last_any = float("-inf")
        self._last_chat: dict[int, float] = {}

    async def wait(self, chat_id: int) -> float:
        now = self.clock()
        ready = max(
            self._last_any + self.global_interval,
            self._last_chat.get(chat_id, float("-inf")) + self.per_chat_interval,
        )
        delay = max(0.0, ready - now)
        if delay:
            await self.sleep(delay)
        at = now + delay
        self._last_any, self._last_chat[chat_id] = at, at
        return delay


# ---- rendering ---------------------------------------------------------------------------------


def _local(value: str | None, tz: ZoneInfo) -> str:
    if not value:
        return ""
    try:
        return texts.fmt_time(datetime.fromisoformat(value), tz)
    except ValueError:
        return value


def _render_reporter(
    session: Session, msg: OutboxMessage, tz: ZoneInfo
) -> tuple[str, list[list[tuple[str, str]]]]:
    p = msg.payload or {}
    template = texts.REPORTER_NOTICES.get(msg.kind)
    if template is None:
        return texts.GENERIC_NOTICE.format(ticket=p.get("ticket", ""), kind=msg.kind), []
    text = template.format(
        ticket=p.get("ticket", ""),
        department=p.get("department", "承办单位"),
        result=p.get("result") or "（无）",
        due=_local(p.get("due_at"), tz),
        reason=p.get("reason", ""),
        into=p.get("into", ""),
        target=p.get("target", ""),
    )
    buttons: list[list[tuple[str, str]]] = []
    if msg.kind == "tip_closed" and p.get("tip_id"):
        tip = session.get(Tip, int(p["tip_id"]))
        if tip is not None and tip.satisfaction is None:
            buttons = [[(label, f"rate:{p['tip_id']}:{i}") for i, label in enumerate(texts.SATISFACTION)]]
    return text, buttons


def _render_department(
    session: Session, msg: OutboxMessage, tz: ZoneInfo
) -> tuple[str, list[list[tuple[str, str]]]]:
    """Department notices carry the problem, never who reported it."""
    p = msg.payload or {}
    tip = session.get(Tip, int(p["tip_id"])) if p.get("tip_id") else None
    assignment = session.get(Assignment, int(p["assignment_id"])) if p.get("assignment_id") else None
    cat = catalogue()
    category = ""
    if tip is not None and tip.category in cat.categories:
        category = cat.categories[tip.category].name
        if tip.subtype:
            category += " / " + cat.categories[tip.category].subtypes.get(tip.subtype, tip.subtype)
    text_preview = (tip.text if tip else "")[:TEXT_PREVIEW_CHARS]
    due = p.get("due_at") or (assignment.due_at.isoformat() if assignment else None)
    decision = "同意延期" if p.get("granted") else "不同意延期"
    template = texts.DEPARTMENT_NOTICES.get(msg.kind, texts.GENERIC_NOTICE)
    text = template.format(
        ticket=p.get("ticket", ""),
        role="主办" if p.get("lead") or (assignment is not None and assignment.lead) else "协办",
        category=category or "待定",
        place=(tip.place if tip else "") or "未填写",
        text=text_preview,
        due=_local(due, tz),
        reason=p.get("reason", ""),
        decision=decision,
        reason_line=f"\n理由：{p['reason']}" if p.get("reason") else "",
        kind=msg.kind,
    )
    buttons: list[list[tuple[str, str]]] = []
    if (
        assignment is not None
        and assignment.status == AssignmentStatus.pending
        and msg.kind != "assignment_cancelled"
    ):
        buttons = [[(texts.BTN_SIGN, f"sign:{assignment.id}")]]
    return text, buttons


def _recipient_chat(session: Session, msg: OutboxMessage) -> int | None:
    if msg.recipient_kind == "reporter":
        reporter = session.get(Reporter, int(msg.recipient_ref)) if msg.recipient_ref.isdigit() else None
        return reporter.telegram_chat_id if reporter else None
    return chat_for_department(session, msg.recipient_ref)


# ---- claim, send, settle -----------------------------------------------------------------------


def claim(
    sessions: sessionmaker[Session], config: SenderConfig, tz: ZoneInfo, now: datetime
) -> tuple[list[Delivery], list[int]]:
    """Take due rows under a lease and render them; rows without a Telegram chat are marked skipped."""
    deliveries: list[Delivery] = []
    skipped: list[int] = []
    with unit_of_work(sessions) as session:
        rows = session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.channel == "telegram",
                OutboxMessage.status == "pending",
                OutboxMessage.recipient_kind.in_(RECIPIENTS),
                OutboxMessage.next_attempt_at <= now,
            )
            .order_by(OutboxMessage.id)
            .limit(config.batch)
            .with_for_update(skip_locked=True)
        ).all()
        for msg in rows:
            chat_id = _recipient_chat(session, msg)
            if chat_id is None:
                msg.status, msg.last_error = "skipped", "recipient has no Telegram chat"
                skipped.append(msg.id)
                continue
            render = _render_reporter if msg.recipient_kind == "reporter" else _render_department
            text, buttons = render(session, msg, tz)
            msg.attempts += 1
            msg.next_attempt_at = now + config.lease
            deliveries.append(Delivery(msg.id, chat_id, text, buttons))
    return deliveries, skipped


def _settle(
    sessions: sessionmaker[Session],
    outbox_id: int,
    config: SenderConfig,
    now: datetime,
    error: str | None = None,
    retry_at: datetime | None = None,
    permanent: bool = False,
) -> str:
    with unit_of_work(sessions) as session:
        msg = session.get(OutboxMessage, outbox_id, with_for_update=True)
        if msg is None or msg.status != "pending":
            return msg.status if msg else "gone"
        if error is None:
            msg.status, msg.sent_at, msg.last_error = "sent", now, None
        elif permanent or (retry_at is None and msg.attempts >= config.max_attempts):
            msg.status, msg.last_error = "failed", error[:2000]
        else:
            delay = min(config.base_delay * 2 ** max(msg.attempts - 1, 0), config.max_delay)
            msg.next_attempt_at, msg.last_error = retry_at or now + delay, error[:2000]
        return msg.status


async def deliver_due(
    bot: Bot,
    sessions: sessionmaker[Session],
    config: SenderConfig,
    tz: ZoneInfo,
    now: Callable[[], datetime] = utcnow,
    limiter: RateLimiter | None = None,
) -> DeliveryReport:
    """One pass over the due messages. Failures are per message: one bad chat never blocks the rest."""
    limiter = limiter or RateLimiter(config.global_interval, config.per_chat_interval)
    report = DeliveryReport()
    deliveries, report.skipped = await asyncio.to_thread(claim, sessions, config, tz, now())
    for d in deliveries:
        await limiter.wait(d.chat_id)
        markup = (
            InlineKeyboardMarkup(
                [
                    [InlineKeyboardButton(label, callback_data=data) for label, data in row]
                    for row in d.buttons
                ]
            )
            if d.buttons
            else None
        )
        error, retry_at, permanent = None, None, False
        try:
            await bot.send_message(d.chat_id, d.text, reply_markup=markup)
        except RetryAfter as exc:  # flood control: wait as told, not counted as a failure of the message
            seconds = (
                exc.retry_after
                if isinstance(exc.retry_after, int | float)
                else exc.retry_after.total_seconds()
            )
            error, retry_at = f"RetryAfter {seconds}s", now() + timedelta(seconds=float(seconds))
        except (Forbidden, BadRequest) as exc:  # blocked by the user, chat gone: retrying will not help
            error, permanent = f"{type(exc).__name__}: {exc.message}", True
        except TelegramError as exc:  # network trouble, 5xx: back off and retry
            error = f"{type(exc).__name__}: {exc.message}"
        status = await asyncio.to_thread(
            _settle, sessions, d.outbox_id, config, now(), error, retry_at, permanent
        )
        if error is None:
            report.sent.append(d.outbox_id)
        elif status == "failed":
            log.warning("outbox %s failed for good: %s", d.outbox_id, error)
            report.failed.append(d.outbox_id)
        else:
            log.info("outbox %s will be retried: %s", d.outbox_id, error)
            report.retried.append(d.outbox_id)
    return report
