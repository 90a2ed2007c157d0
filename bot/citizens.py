"""What a citizen may do from their Telegram account: see their own tips, query one, rate one (回访)."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from intake.service import NOT_FOUND_MESSAGE, CitizenStatus, citizen_status, find_tip_for_citizen
from models.tips import Reporter, Tip, telegram_user_key
from triage.actors import Actor
from triage.errors import NotFound
from triage.labels import TIP_STATUS
from triage.workorders import record_satisfaction


@dataclass(frozen=True)
class OwnTip:
    ticket: str
    status_label: str
    received_at: datetime


# The audit trail says a citizen acted through Telegram, never which account: every staff member who may
# read a tip's history (departments included, through the API) would otherwise see the reporter's
# Telegram id, and it would outlive `hotline retention`. The tip's reporter row already links the two.
TELEGRAM_CITIZEN = Actor(label="telegram")


def _reported_by(telegram_user_id: int) -> ColumnElement[bool]:
    """The condition on a joined Reporter: this Telegram user reported the tip."""
    return Reporter.telegram_user_key == telegram_user_key(telegram_user_id)


def _own_tip(session: Session, telegram_user_id: int, ticket: str) -> Tip:
    tip = session.scalar(
        select(Tip)
        .join(Reporter, Reporter.id == Tip.reporter_id)
        .where(Tip.ticket == ticket.strip().upper(), _reported_by(telegram_user_id))
    )
    if tip is None:
        raise NotFound(NOT_FOUND_MESSAGE, "tip_not_found")
    return tip


def status_for(
    session: Session, telegram_user_id: int, ticket: str, code: str, secret_key: str
) -> CitizenStatus:
    """A reporter's own tip needs no query code; anyone else's needs the right one."""
    if code:
        tip = find_tip_for_citizen(session, ticket, code, secret_key)
    else:
        tip = _own_tip(session, telegram_user_id, ticket)
    return citizen_status(session, tip)


def own_tips(session: Session, telegram_user_id: int, limit: int = 5) -> list[OwnTip]:
    rows = session.execute(
        select(Tip.ticket, Tip.status, Tip.received_at)
        .join(Reporter, Reporter.id == Tip.reporter_id)
        .where(_reported_by(telegram_user_id))
        .order_by(Tip.received_at.desc(), Tip.id.desc())
        .limit(limit)
    ).all()
    return [OwnTip(r.ticket, TIP_STATUS.get(r.status, r.status), r.received_at) for r in rows]


def rate_own_tip(session: Session, telegram_user_id: int, tip_id: int, value: str) -> Tip:
    """回访 from the satisfaction buttons: only the reporter's own Telegram account may rate."""
    tip = session.scalar(
        select(Tip)
        .join(Reporter, Reporter.id == Tip.reporter_id)
        .where(Tip.id == tip_id, _reported_by(telegram_user_id))
    )
    if tip is None:
        raise NotFound("未找到您的这条举报", "tip_not_found")
    return record_satisfaction(session, TELEGRAM_CITIZEN, tip_id, value)
