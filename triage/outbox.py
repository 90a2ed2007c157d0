"""Queue messages to people in the same transaction as the change that causes them (the outbox)."""

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
