"""Retention: remove reporter identity once every tip of the reporter has been finished long enough."""

from datetime import datetime, timedelta

from sqlalchemy import exists, select, text
from sqlalchemy.orm import Session

from models.base import utcnow
from models.crypto import rotate_token
from models.tips import Reporter, Tip, TipStatus
from triage import audit
from triage.actors import SYSTEM

FINISHED = (TipStatus.closed, TipStatus.invalid, TipStatus.merged, TipStatus.transferred)


def purge_reporter_identities(session: Session, older_than_days: int, now: datetime | None = None) -> int:
    """Blank name and contact of reporters whose tips all ended more than `older_than_days` ago.

    The tips stay (they are the city's record); the Telegram ids stay only as long as the bot may still
    need to answer, so they go too. Returns how many reporters were purged; each purge is audited.
    """
    if older_than_days < 1:
        raise ValueError("older_than_days must be at least 1")
    cutoff = (now or utcnow()) - timedelta(days=older_than_days)
    unfinished_or_recent = exists().where(
        Tip.reporter_id == Reporter.id,
        (Tip.status.not_in(FINISHED)) | (Tip.closed_at.is_(None)) | (Tip.closed_at > cutoff),
    )
    candidates = session.scalars(
        select(Reporter).where(Reporter.purged_at.is_(None), ~unfinished_or_recent).limit(10_000)
    ).all()
    for reporter in candidates:
        reporter.name = reporter.contact = None
        reporter.telegram_user_key = reporter.telegram_chat = None
        reporter.purged_at = now or utcnow()
        tip_ids = session.scalars(select(Tip.id).where(Tip.reporter_id == reporter.id)).all()
        for tip_id in tip_ids:
            audit.record(session, SYSTEM, "reporter_purged", tip_id=tip_id, days=older_than_days)
    session.flush()
    return len(candidates)


def reencrypt_reporter_identities(session: Session) -> int:
    """Re-encrypt every stored identity with the first (newest) key, after a key rotation."""
    rows = session.execute(
        text(
            "SELECT id, name, contact, telegram_chat FROM reporters"
            " WHERE name IS NOT NULL OR contact IS NOT NULL OR telegram_chat IS NOT NULL"
        )
    )
    count = 0
    for row in rows.fetchall():
        session.execute(
            text(
                "UPDATE reporters SET name = :name, contact = :contact, telegram_chat = :chat WHERE id = :id"
            ),
            {
                "id": row.id,
                "name": rotate_token(row.name) if row.name else None,
                "contact": rotate_token(row.contact) if row.contact else None,
                "chat": rotate_token(row.telegram_chat) if row.telegram_chat else None,
            },
        )
        count += 1
    return count
