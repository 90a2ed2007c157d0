"""Deliver pending outbox messages to Telegram: claim, render, send, then mark sent.

At-least-once: a message is marked `sent` only after Telegram accepted it. A claim moves the row's
`next_attempt_at` forward by a lease, so a second sender skips it and a sender killed mid-send leaves it
to be retried when the lease runs out. Errors back off exponentially; after `max_attempts` the row is
`failed`.

Recipients: a reporter's own chat, a department's linked chat, and the staff chats configured in
`StaffChats` (bureau: the weekly digest and 黄牌/红牌 proposals; dispatchers: 督办 summaries, replies to
review, returns, extension requests, unsatisfied callbacks). A row whose recipient has no chat (a web
reporter, an unlinked department, an unconfigured staff chat) is marked `skipped` with the reason in
`last_error` rather than left pending forever: the status page, the staff pages and the digest archive
still show everything, and a chat configured later does not flood its members with a stale backlog.
E-mail rows (`channel="email"`) belong to digest/mail.py and are never touched here.

A text longer than one Telegram message is sent in parts; the row records how many parts Telegram
accepted (`payload["parts_sent"]`), so a retry resumes at the part that failed instead of repeating.
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

from bot.links import chat_for_department
from bot.notices import Buttons, render, split_message
from bot.staff_chats import StaffChats
from models.base import utcnow
from models.db import unit_of_work
from models.outbox import OutboxMessage
from models.tips import Reporter
from triage import outbox

log = logging.getLogger(__name__)
RECIPIENTS = ("reporter", "department", "dispatchers", "bureau")
PARTS_SENT = "parts_sent"
NO_CHAT = {
    "reporter": "recipient has no Telegram chat",
    "department": "department has no linked Telegram chat",
    "dispatchers": "no dispatchers chat configured (HOTLINE_TELEGRAM_DISPATCHERS_CHAT_ID)",
    "bureau": "no bureau chat configured (HOTLINE_TELEGRAM_BUREAU_CHAT_ID)",
}


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
    # Read from HOTLINE_TELEGRAM_*_CHAT_ID when the config is built (not at import); tests pass their own.
    staff_chats: StaffChats = field(default_factory=StaffChats)


@dataclass(frozen=True)
class Delivery:
    outbox_id: int
    chat_id: int
    parts: list[str]
    buttons: Buttons = field(default_factory=list)
    first_part: int = 0  # parts before this one were accepted on an earlier attempt

    @property
    def text(self) -> str:
        return "".join(self.parts)


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


def _recipient_chat(session: Session, msg: OutboxMessage, staff: StaffChats) -> int | None:
    if msg.recipient_kind == "reporter":
        reporter = session.get(Reporter, int(msg.recipient_ref)) if msg.recipient_ref.isdigit() else None
        return int(reporter.telegram_chat) if reporter and reporter.telegram_chat else None
    if msg.recipient_kind == "department":
        return chat_for_department(session, msg.recipient_ref)
    return staff.chat_for(msg.recipient_kind)


# ---- claim, send, settle -----------------------------------------------------------------------


def claim(
    sessions: sessionmaker[Session], config: SenderConfig, tz: ZoneInfo, now: datetime
) -> tuple[list[Delivery], list[int], list[int]]:
    """Take due Telegram rows under a lease and render them: (deliveries, skipped ids, failed ids).

    Rows without a chat are marked skipped; a row that cannot be rendered (a malformed payload) is marked
    failed on its own, so it cannot block the rows behind it on every pass.
    """
    deliveries: list[Delivery] = []
    skipped: list[int] = []
    failed: list[int] = []
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
            chat_id = _recipient_chat(session, msg, config.staff_chats)
            if chat_id is None:
                msg.status, msg.last_error = "skipped", NO_CHAT[msg.recipient_kind]
                skipped.append(msg.id)
                continue
            try:
                notice = render(session, msg, tz, config.public_url)
            except Exception as exc:
                log.exception("outbox %s (%s) cannot be rendered", msg.id, msg.kind)
                msg.status, msg.last_error = "failed", f"cannot render: {exc!r}"[:2000]
                failed.append(msg.id)
                continue
            msg.attempts += 1
            msg.next_attempt_at = now + config.lease
            first = int((msg.payload or {}).get(PARTS_SENT, 0))
            parts = split_message(notice.text)
            deliveries.append(Delivery(msg.id, chat_id, parts, notice.buttons, min(first, len(parts) - 1)))
    return deliveries, skipped, failed


def _settle(
    sessions: sessionmaker[Session],
    outbox_id: int,
    config: SenderConfig,
    now: datetime,
    error: str | None = None,
    retry_at: datetime | None = None,
    permanent: bool = False,
    parts_sent: int = 0,
) -> str:
    with unit_of_work(sessions) as session:
        msg = session.get(OutboxMessage, outbox_id, with_for_update=True)
        if msg is not None and msg.status == "pending" and error is not None and parts_sent:
            msg.payload = {
                **(msg.payload or {}),
                PARTS_SENT: parts_sent,
            }  # a new dict: the JSON column sees it
        return outbox.settle(
            session,
            outbox_id,
            now,
            error,
            max_attempts=config.max_attempts,
            backoff=lambda attempts: min(config.base_delay * 2 ** max(attempts - 1, 0), config.max_delay),
            retry_at=retry_at,
            permanent=permanent,
        )


def _markup(buttons: Buttons) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in buttons]
    )


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
    deliveries, report.skipped, report.failed = await asyncio.to_thread(claim, sessions, config, tz, now())
    for d in deliveries:
        error, retry_at, permanent = None, None, False
        parts_sent = d.first_part  # parts before this one were accepted on an earlier attempt
        try:
            for index in range(d.first_part, len(d.parts)):
                await limiter.wait(d.chat_id)
                last = index == len(d.parts) - 1
                # Plain text, no parse_mode: a stray `_` or `*` in a name must not make Telegram refuse it.
                markup = _markup(d.buttons) if last else None
                await bot.send_message(d.chat_id, d.parts[index], reply_markup=markup)
                parts_sent = index + 1
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
            _settle, sessions, d.outbox_id, config, now(), error, retry_at, permanent, parts_sent
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
