"""What staff see: the dispatcher queue (分拣队列), a tip's detail, a department's inbox, the bureau overview.

Read-only services shared by the staff pages and the staff API. Overdue (超期) is derived here from the
due dates at the moment of the query, never stored.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from models.audit import AuditEvent
from models.base import utcnow
from models.register import Enterprise
from models.tips import Tip, TipStatus, TriageState
from models.workorders import Assignment, AssignmentStatus
from triage.actors import Actor, require_staff
from triage.deadlines import is_overdue
from triage.errors import Forbidden, NotFound
from triage.workorders import current_assignments

OPEN_TIP_STATES = (TipStatus.received, TipStatus.dispatched, TipStatus.in_progress, TipStatus.replied)
OPEN_ASSIGNMENT_STATES = (AssignmentStatus.pending, AssignmentStatus.accepted, AssignmentStatus.replied)
PAGE_SIZE = 50
# Below this confidence in its category, a suggestion is marked 请核对 (check it) for the dispatcher.
# Chosen on round 11's out-of-fold verdicts: on the real training tips (5-fold CV x3) it marked one tip in
# eighteen with every wrong category among them; leaving one file out, 15% of the tips and 42 of 46 wrong
# categories. Re-checked on round 13's: 3.4% of real tips (none wrong left), 19.5% by file with 193 of 241
# wrong categories; on round 14's: 4.6% of real tips (none wrong), 19.0% by file with 189 of 231; on round
# 15's: 3.7% of real tips (none wrong), 15.6% by file with 177 of 224 (triage/data/README.md).
CHECK_BELOW_CONFIDENCE = 0.7


@dataclass(frozen=True)
class QueueFilter:
    status: str | None = None  # None: every open state
    category: str | None = None
    county_code: str | None = None
    overdue: bool = False
    page: int = 1
    to_check: bool = False  # only suggestions marked 请核对 (suggestion_to_check)


def _to_check_clause() -> Any:
    """SQL for `suggestion_to_check`."""
    return (
        (Tip.status == TipStatus.received)
        & (Tip.triage_state == TriageState.done)
        & (Tip.analysis["confidence"].as_float() < CHECK_BELOW_CONFIDENCE)
    )


def _overdue_clause(now: datetime) -> Any:
    return (Tip.due_at.is_not(None)) & (Tip.due_at < now) & (Tip.status.in_(OPEN_TIP_STATES))


def list_queue(
    session: Session, actor: Actor, filters: QueueFilter, now: datetime | None = None
) -> tuple[list[Tip], int]:
    """Tips for the dispatcher: urgent first, then by due date, then oldest first."""
    if not (actor.is_dispatcher or actor.is_bureau):
        raise Forbidden("只有派单员和市局可以查看工单队列", "dispatcher_only")
    now = now or utcnow()
    query = select(Tip)
    if filters.status:
        query = query.where(Tip.status == filters.status)
    else:
        query = query.where(Tip.status.in_(OPEN_TIP_STATES))
    if filters.category:
        query = query.where(Tip.category == filters.category)
    if filters.county_code:
        query = query.where(Tip.county_code == filters.county_code)
    if filters.overdue:
        query = query.where(_overdue_clause(now))
    if filters.to_check:
        query = query.where(_to_check_clause())
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = max(filters.page, 1)
    rows = session.scalars(
        query.options(selectinload(Tip.enterprise))
        # The order of the partial index ix_tips_queue_open (migration 0007): at a million tips a page
        # of the open queue is read straight from it instead of sorting every open tip. Open tips always
        # have a due date (provisional from receipt until dispatch).
        .order_by(Tip.urgent.desc(), Tip.due_at.asc(), Tip.received_at.asc())
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    )
    return list(rows), total


@dataclass(frozen=True)
class TipDetail:
    tip: Tip
    enterprise: Enterprise | None
    assignments: list[Assignment]
    history: list[AuditEvent]
    earlier_tips_about_enterprise: int


def tip_detail(session: Session, actor: Actor, tip_id: int) -> TipDetail:
    """A tip as staff see it. A department sees it only through one of its own assignments."""
    require_staff(actor)
    tip = session.get(Tip, tip_id)
    if tip is None:
        raise NotFound("工单不存在", "tip_not_found")
    assignments = list(
        session.scalars(
            select(Assignment).where(Assignment.tip_id == tip_id).order_by(Assignment.round, Assignment.id)
        )
    )
    if actor.is_department:
        if not any(a.department_code == actor.department_code for a in assignments):
            raise NotFound("工单不存在", "tip_not_found")
        assignments = [a for a in assignments if a.department_code == actor.department_code]
    history_query = select(AuditEvent).where(AuditEvent.tip_id == tip_id).order_by(AuditEvent.id)
    if actor.is_department:
        # Departments never learn who looked at the reporter, nor anything about the reporter.
        history_query = history_query.where(AuditEvent.action != "reporter_viewed")
    earlier = 0
    if tip.enterprise_id:
        earlier = (
            session.scalar(
                select(func.count()).where(Tip.enterprise_id == tip.enterprise_id, Tip.id != tip.id)
            )
            or 0
        )
    return TipDetail(
        tip=tip,
        enterprise=tip.enterprise,
        assignments=assignments,
        history=list(session.scalars(history_query)),
        earlier_tips_about_enterprise=earlier,
    )


def department_inbox(
    session: Session, actor: Actor, include_done: bool = False, department_code: str | None = None
) -> list[Assignment]:
    """A department's assignments, most pressing first. Only its own: the filter is not optional."""
    if actor.is_department:
        department_code = actor.department_code
    elif not (actor.is_dispatcher or actor.is_bureau):
        raise Forbidden("无权查看", "staff_only")
    query = select(Assignment).options(selectinload(Assignment.tip))
    if department_code:
        query = query.where(Assignment.department_code == department_code)
    if not include_done:
        query = query.where(Assignment.status.in_(OPEN_ASSIGNMENT_STATES))
    query = query.order_by(Assignment.status != AssignmentStatus.pending, Assignment.due_at.asc())
    return list(session.scalars(query.limit(500)))


@dataclass(frozen=True)
class Overview:
    by_status: dict[str, int]
    by_category: dict[str, int]
    overdue_assignments: list[Assignment]
    open_by_department: dict[str, int]


def overview(session: Session, actor: Actor, now: datetime | None = None) -> Overview:
    """The bureau's counts and overdue lists, by SQL aggregation."""
    if not (actor.is_bureau or actor.is_dispatcher):
        raise Forbidden("只有市局和派单员可以查看总览", "bureau_only")
    now = now or utcnow()
    by_status = dict(session.execute(select(Tip.status, func.count()).group_by(Tip.status)).all())
    by_category = dict(
        session.execute(
            select(func.coalesce(Tip.category, "未分类"), func.count()).group_by(Tip.category)
        ).all()
    )
    overdue = list(
        session.scalars(
            select(Assignment)
            .options(selectinload(Assignment.tip))
            .where(
                Assignment.status.in_((AssignmentStatus.pending, AssignmentStatus.accepted)),
                or_(
                    Assignment.due_at < now,
                    (Assignment.status == AssignmentStatus.pending) & (Assignment.sign_due_at < now),
                ),
            )
            .order_by(Assignment.due_at)
            .limit(200)
        )
    )
    open_by_department = dict(
        session.execute(
            select(Assignment.department_code, func.count())
            .where(Assignment.status.in_(OPEN_ASSIGNMENT_STATES))
            .group_by(Assignment.department_code)
        ).all()
    )
    return Overview(by_status, by_category, overdue, open_by_department)


def assignment_overdue(a: Assignment, now: datetime | None = None) -> bool:
    """Past the sign-off limit while unsigned, or past the completion limit while not yet replied."""
    now = now or utcnow()
    unsigned = a.status == AssignmentStatus.pending
    working = a.status in (AssignmentStatus.pending, AssignmentStatus.accepted)
    return is_overdue(a.sign_due_at, now, done=not unsigned) or is_overdue(a.due_at, now, done=not working)


def tip_overdue(tip: Tip, now: datetime | None = None) -> bool:
    return is_overdue(tip.due_at, now or utcnow(), done=tip.status not in OPEN_TIP_STATES)


def unsure(analysis: dict[str, Any] | None) -> bool:
    """The engine was unsure of this stored suggestion (its category confidence is below the 请核对 line)."""
    confidence = (analysis or {}).get("confidence")
    return isinstance(confidence, int | float) and confidence < CHECK_BELOW_CONFIDENCE


def suggestion_to_check(tip: Tip) -> bool:
    """A tip awaiting dispatch whose automatic suggestion the engine is unsure of (请核对)."""
    return tip.status == TipStatus.received and tip.triage_state == TriageState.done and unsure(tip.analysis)


__all__ = [
    "Overview",
    "QueueFilter",
    "TipDetail",
    "assignment_overdue",
    "suggestion_to_check",
    "unsure",
    "current_assignments",
    "department_inbox",
    "list_queue",
    "overview",
    "tip_detail",
    "tip_overdue",
]
