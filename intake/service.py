"""The front door: `submit()` for every channel, and what a citizen may see of a tip (status query)."""

import logging
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from intake.auto_triage import StoredTip, TipTriage
from intake.photos import CleanPhoto, clean_photo, store_photo
from intake.storing import SubmissionRows, store_submission
from intake.tickets import hash_query_code, new_query_code, query_code_matches
from models.audit import AuditEvent
from models.base import utcnow
from models.tips import Tip, TipStatus, TriageState, telegram_user_key
from triage import audit
from triage.actors import CITIZEN, Actor
from triage.deadlines import provisional_due
from triage.errors import NotFound, ValidationFailed
from triage.labels import PUBLIC_EVENT, TIP_STATUS

log = logging.getLogger(__name__)

CHANNELS = ("web", "telegram", "phone", "api", "open311")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class IntakeConfig:
    secret_key: str
    tz: ZoneInfo
    attachments_dir: Path
    max_text_chars: int = 5000
    max_photos: int = 5
    max_photo_bytes: int = 10 * 1024 * 1024


@dataclass(frozen=True)
class TipSubmission:
    text: str
    channel: str
    place: str = ""
    enterprise_name: str = ""
    contact: str = ""
    name: str = ""
    anonymous: bool = True
    latitude: float | None = None
    longitude: float | None = None
    telegram_user_id: int | None = None
    telegram_chat_id: int | None = None
    photos: Sequence[bytes] = field(default_factory=tuple)


@dataclass(frozen=True)
class Receipt:
    tip_id: int
    ticket: str
    query_code: str
    status: str
    received_at: datetime


def _clean_text(value: str, limit: int, what: str, required: bool = False) -> str:
    value = _CONTROL.sub("", unicodedata.normalize("NFC", value or "")).strip()
    if required and not value:
        raise ValidationFailed(f"请填写{what}", f"{'text' if what == '问题描述' else 'field'}_required")
    if len(value) > limit:
        raise ValidationFailed(f"{what}不能超过{limit}字（现为{len(value)}字）", "text_too_long")
    return value


def validate(sub: TipSubmission, config: IntakeConfig) -> tuple[TipSubmission, list[CleanPhoto]]:
    """Check and normalise everything before anything is written."""
    if sub.channel not in CHANNELS:
        raise ValidationFailed("未知的举报渠道", "unknown_channel")
    text = _clean_text(sub.text, config.max_text_chars, "问题描述", required=True)
    if len(text) < 5:
        raise ValidationFailed("问题描述太短，请至少写5个字，说明地点和情况", "text_too_short")
    place = _clean_text(sub.place, 200, "地点")
    enterprise_name = _clean_text(sub.enterprise_name, 200, "企业名称")
    contact = _clean_text(sub.contact, 100, "联系方式")
    name = _clean_text(sub.name, 60, "姓名")
    anonymous = sub.anonymous or not (contact or name or sub.telegram_user_id)
    if not sub.anonymous and not (contact or sub.telegram_user_id):
        raise ValidationFailed("实名举报请留下联系方式，或选择匿名举报", "contact_required")
    for value, low, high in ((sub.latitude, -90, 90), (sub.longitude, -180, 180)):
        if value is not None and not low <= value <= high:
            raise ValidationFailed("位置坐标无效", "invalid_location")
    if len(sub.photos) > config.max_photos:
        raise ValidationFailed(f"最多上传{config.max_photos}张照片", "too_many_photos")
    photos = [clean_photo(raw, config.max_photo_bytes) for raw in sub.photos]
    cleaned = TipSubmission(
        text=text,
        channel=sub.channel,
        place=place,
        enterprise_name=enterprise_name,
        contact="" if anonymous else contact,
        name="" if anonymous else name,
        anonymous=anonymous,
        latitude=sub.latitude,
        longitude=sub.longitude,
        telegram_user_id=sub.telegram_user_id,
        telegram_chat_id=sub.telegram_chat_id,
    )
    return cleaned, photos


def submit(
    sessions: sessionmaker[Session],
    submission: TipSubmission,
    config: IntakeConfig,
    actor: Actor = CITIZEN,
    triage: TipTriage | None = None,
    now: datetime | None = None,
) -> Receipt:
    """Store the tip and its reporter (all or nothing), then hand it to triage (which can never lose it)."""
    sub, photos = validate(submission, config)
    now = now or utcnow()
    stored: list[str] = []
    try:
        for photo in photos:
            stored.append(store_photo(photo, config.attachments_dir))
        code = new_query_code()
        tip_id, ticket = store_submission(sessions, _rows(sub, photos, stored, code, config, actor, now))
    except BaseException:
        for name in stored:  # the tip was not stored: neither are its photos
            (config.attachments_dir / name).unlink(missing_ok=True)
        raise
    if triage is not None:
        triage(StoredTip(tip_id, sub.text, sub.place, sub.enterprise_name, sub.channel, now))
    return Receipt(tip_id=tip_id, ticket=ticket, query_code=code, status=TipStatus.received, received_at=now)


def _rows(
    sub: TipSubmission,
    photos: list[CleanPhoto],
    stored: list[str],
    code: str,
    config: IntakeConfig,
    actor: Actor,
    now: datetime,
) -> SubmissionRows:
    """Reporter, tip, photos and the `received` event as the rows to write."""
    event = audit.event_row(actor, "received", public=True, channel=sub.channel, photos=len(photos))
    del event["tip_id"]  # the new tip's
    event["created_at"] = now
    return SubmissionRows(
        day=now.astimezone(config.tz).strftime("%Y%m%d"),
        reporter={
            "anonymous": sub.anonymous,
            "name": sub.name or None,
            "contact": sub.contact or None,
            "telegram_user_key": (
                None if sub.telegram_user_id is None else telegram_user_key(sub.telegram_user_id)
            ),
            "telegram_chat": None if sub.telegram_chat_id is None else str(sub.telegram_chat_id),
            "created_at": now,
        },
        tip={
            "query_code_hash": hash_query_code(code, config.secret_key),
            "channel": sub.channel,
            "text": sub.text,
            "place": sub.place,
            "enterprise_name": sub.enterprise_name,
            "latitude": sub.latitude,
            "longitude": sub.longitude,
            "status": TipStatus.received,
            "received_at": now,
            "due_at": provisional_due(now, config.tz),
            "urgent": False,
            "triage_state": TriageState.pending,
            "version": 1,
        },
        attachments=[
            {
                "stored_name": name,
                "content_type": photo.content_type,
                "size": len(photo.data),
                "sha256": photo.sha256,
                "width": photo.width,
                "height": photo.height,
                "created_at": now,
            }
            for photo, name in zip(photos, stored, strict=True)
        ],
        event=event,
    )


# ---- what a citizen may see ---------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    event: str
    label: str


@dataclass(frozen=True)
class CitizenStatus:
    ticket: str
    status: str
    status_label: str
    received_at: datetime
    due_at: datetime | None
    closed_at: datetime | None
    result_summary: str | None
    satisfaction: str | None
    merged_into: str | None
    transferred_to: str | None
    history: list[HistoryEntry]
    can_rate: bool


NOT_FOUND_MESSAGE = "未找到该工单，请核对工单号和查询码"


def find_tip_for_citizen(session: Session, ticket: str, code: str, secret_key: str) -> Tip:
    """Unknown ticket and wrong code give the same answer, so codes cannot be probed ticket by ticket."""
    tip = session.scalar(select(Tip).where(Tip.ticket == (ticket or "").strip().upper()))
    if tip is None or not code or not query_code_matches(code, tip.query_code_hash, secret_key):
        raise NotFound(NOT_FOUND_MESSAGE, "tip_not_found")
    return tip


def citizen_status(session: Session, tip: Tip) -> CitizenStatus:
    events = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.tip_id == tip.id, AuditEvent.public.is_(True))
        .order_by(AuditEvent.id)
    )
    history = [
        HistoryEntry(at=e.created_at, event=e.action, label=PUBLIC_EVENT.get(e.action, e.action))
        for e in events
    ]
    merged_into = (
        session.scalar(select(Tip.ticket).where(Tip.id == tip.merged_into_id)) if tip.merged_into_id else None
    )
    return CitizenStatus(
        ticket=tip.ticket,
        status=tip.status,
        status_label=TIP_STATUS[tip.status],
        received_at=tip.received_at,
        due_at=tip.due_at,
        closed_at=tip.closed_at,
        result_summary=tip.result_summary if tip.status == TipStatus.closed else None,
        satisfaction=tip.satisfaction,
        merged_into=merged_into,
        transferred_to=tip.status_reason if tip.status == TipStatus.transferred else None,
        history=history,
        can_rate=tip.status == TipStatus.closed and tip.satisfaction is None,
    )
