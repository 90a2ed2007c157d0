"""E-mail the archived digest over SMTP (smtplib), from the outbox: claim under a lease, send, settle.

At-least-once like the Telegram sender: a row is marked `sent` only after the SMTP server accepted the
message; a claim moves `next_attempt_at` forward by a lease so a second process skips the row; failures
back off exponentially and the row is `failed` after `email_max_attempts`.
"""

import logging
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from digest.settings import DigestSettings
from models.db import unit_of_work
from models.digest import DigestArchive
from models.outbox import OutboxMessage
from triage import outbox

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=10)
XLSX_SUBTYPE = "vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Outgoing:
    outbox_id: int
    message: EmailMessage


def digest_email(archive: DigestArchive, sender: str, recipients: list[str]) -> EmailMessage:
    """Plain text (the Markdown) and HTML with the charts inline (cid:), the XLSX workbook attached."""
    files = {f.name: f for f in archive.files}
    stem = f"digest-{archive.week}"
    html = files[f"{stem}.html"].content.decode("utf-8")
    charts = [f for f in archive.files if f.content_type == "image/png"]
    cids = {f.name: make_msgid(idstring=f.name.removesuffix(".png"), domain="hotline") for f in charts}
    for name, cid in cids.items():
        html = html.replace(f'src="{name}"', f'src="cid:{cid[1:-1]}"')

    msg = EmailMessage()
    msg["Subject"] = f"河源市落后产能举报周报 {archive.week}"
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Date"] = formatdate(localtime=False)
    msg.set_content(files[f"{stem}.md"].content.decode("utf-8"))
    msg.add_alternative(html, subtype="html")
    html_part = msg.get_body(preferencelist=("html",))
    assert isinstance(html_part, EmailMessage)
    for f in charts:
        html_part.add_related(f.content, maintype="image", subtype="png", cid=cids[f.name], filename=f.name)
    msg.add_attachment(
        files[f"{stem}.xlsx"].content, maintype="application", subtype=XLSX_SUBTYPE, filename=f"{stem}.xlsx"
    )
    return msg


def send(message: EmailMessage, cfg: DigestSettings) -> None:
    if cfg.smtp_security == "ssl":
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            cfg.smtp_host,
            cfg.smtp_port,
            timeout=cfg.smtp_timeout_seconds,
            context=ssl.create_default_context(),
        )
    else:
        client = smtplib.SMTP(cfg.smtp_host, cfg.smtp_port, timeout=cfg.smtp_timeout_seconds)
    with client:
        if cfg.smtp_security == "starttls":
            client.starttls(context=ssl.create_default_context())
        if cfg.smtp_username:
            client.login(cfg.smtp_username, cfg.smtp_password)
        client.send_message(message)


def claim(sessions: sessionmaker[Session], cfg: DigestSettings, now: datetime) -> list[Outgoing]:
    """Take the due digest e-mails under a lease and build their messages."""
    outgoing = []
    with unit_of_work(sessions) as session:
        rows = session.scalars(
            select(OutboxMessage)
            .where(
                OutboxMessage.channel == "email",
                OutboxMessage.kind == "weekly_digest",
                OutboxMessage.status == "pending",
                OutboxMessage.next_attempt_at <= now,
            )
            .order_by(OutboxMessage.id)
            .limit(10)
            .with_for_update(skip_locked=True)
        ).all()
        for row in rows:
            stored = session.scalar(
                select(DigestArchive)
                .options(selectinload(DigestArchive.files))
                .where(DigestArchive.id == row.payload.get("archive_id"))
            )
            if stored is None:
                row.status, row.last_error = "failed", "archived digest not found"
                continue
            recipients = list(row.payload.get("to") or cfg.email_recipients)
            row.attempts += 1
            row.next_attempt_at = now + LEASE
            outgoing.append(Outgoing(row.id, digest_email(stored, cfg.digest_email_from, recipients)))
    return outgoing


def settle(
    sessions: sessionmaker[Session], outbox_id: int, cfg: DigestSettings, now: datetime, error: str | None
) -> str:
    with unit_of_work(sessions) as session:
        return outbox.settle(
            session,
            outbox_id,
            now,
            error,
            max_attempts=cfg.email_max_attempts,
            backoff=lambda attempts: timedelta(minutes=2 ** min(attempts, 10)),
        )


def deliver_pending(sessions: sessionmaker[Session], cfg: DigestSettings, now: datetime) -> int:
    """Send every due digest e-mail; returns how many the SMTP server accepted."""
    if not cfg.smtp_host:
        return 0
    sent = 0
    for item in claim(sessions, cfg, now):
        try:
            send(item.message, cfg)
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("digest e-mail %s failed: %s", item.outbox_id, exc)
            settle(sessions, item.outbox_id, cfg, now, f"{type(exc).__name__}: {exc}")
            continue
        settle(sessions, item.outbox_id, cfg, now, None)
        sent += 1
    return sent
