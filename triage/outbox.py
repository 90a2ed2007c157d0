"""Queue messages to people in the same transaction as the change that causes them (the outbox)."""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from models.outbox import OutboxMessage


def enqueue(
    session: Session,
    kind: str,
    recipient_kind: str,
    recipient_ref: str = "",
    channel: str = "telegram",
    **payload: Any,
) -> OutboxMessage:
    """Write one message. Payloads for departments must never carry reporter identity."""
    message = OutboxMessage(
        channel=channel,
        recipient_kind=recipient_kind,
        recipient_ref=recipient_ref,
        kind=kind,
        payload=payload,
    )
    session.add(message)
    return message


def settle(
    session: Session,
    outbox_id: int,
    now: datetime,
    error: str | None,
    *,
    max_attempts: int,
    backoff: Callable[[int], timedelta],
    retry_at: datetime | None = None,
    permanent: bool = False,
) -> str:
    """Record a delivery attempt: sent, retried later (backoff by attempts so far), or failed for good.

    Shared by every sender (Telegram, e-mail). A row no longer pending is left as it is, so a late
    outcome cannot resurrect a message; the new status is returned ("gone" when the row vanished).
    """
    msg = session.get(OutboxMessage, outbox_id, with_for_update=True)
    if msg is None or msg.status != "pending":
        return msg.status if msg else "gone"
    if error is None:
        msg.status, msg.sent_at, msg.last_error = "sent", now, None
    elif permanent or (retry_at is None and msg.attempts >= max_attempts):
        msg.status, msg.last_error = "failed", error[:2000]
    else:
        msg.next_attempt_at, msg.last_error = retry_at or now + backoff(msg.attempts), error[:2000]
    return msg.status
