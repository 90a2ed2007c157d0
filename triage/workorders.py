"""The work-order state machine: one function per transition (派单, 签收, 反馈, 审核, 退单, 延期, 并单, 无效).

Each function checks the actor's permission, the current state and (when given) the version the actor
saw; it changes the rows, appends an audit event and writes outbox messages. Services add and flush;
the caller owns the transaction. The tip row is locked first (SELECT … FOR UPDATE on PostgreSQL, a
write lock from BEGIN IMMEDIATE on SQLite), so two people acting on one tip at once are serialised:
the second sees the new state and gets InvalidTransition or Conflict (HTTP 409).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.base import utcnow
from models.staff import Department
from models.tips import Tip, TipLabel, TipStatus
from models.workorders import Assignment, AssignmentStatus, ExtensionState
from triage import audit, outbox
from triage.actors import Actor, require_dispatcher
from triage.deadlines import deadlines_for, extended_due, provisional_due, return_allowed_until
from triage.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from triage.routing import Catalogue, catalogue

ACTIVE = (
    AssignmentStatus.pending,
    AssignmentStatus.accepted,
    AssignmentStatus.replied,
    AssignmentStatus.approved,
)
SATISFACTION_VALUES = ("满意", "基本满意", "不满意")
MAX_REASON_CHARS = 2000


@dataclass(frozen=True)
class DispatchOrder:
    """What the dispatcher confirms or corrects (确认/更正) when dispatching."""

    category: str
    subtype: str
    lead: str
    co_handlers: tuple[str, ...] = ()
    urgent: bool = False
    county_code: str | None = None
    enterprise_id: int | None = None
    note: str = ""


# ---- loading with locks and checks -------------------------------------------------------------


def lock_tip(session: Session, tip_id: int, expected_version: int | None = None) -> Tip:
    tip = session.get(Tip, tip_id, with_for_update=True, populate_existing=True)
    if tip is None:
        raise NotFound("工单不存在", "tip_not_found")
    _check_version(tip.version, expected_version)
    return tip


def lock_assignment(
    session: Session, actor: Actor, assignment_id: int, expected_version: int | None = None
) -> Assignment:
    """Load an assignment the actor may act on, its tip locked first (the same lock order everywhere)."""
    found = session.execute(
        select(Assignment.tip_id, Assignment.department_code).where(Assignment.id == assignment_id)
    ).first()
    if found is None or not may_see_department(actor, found.department_code):
        # A department never learns that another department's assignment exists.
        raise NotFound("交办单不存在", "assignment_not_found")
    lock_tip(session, found.tip_id)
    assignment = session.get(Assignment, assignment_id, with_for_update=True, populate_existing=True)
    assert assignment is not None
    _check_version(assignment.version, expected_version)
    return assignment


def may_see_department(actor: Actor, department_code: str) -> bool:
    if actor.is_department:
        return actor.department_code == department_code
    return actor.is_dispatcher or actor.is_bureau


def _check_version(current: int, expected: int | None) -> None:
    if expected is not None and expected != current:
        raise Conflict("此工单已被他人更新，请刷新页面后重试", "stale_version")


def _require_state(current: str, allowed: Iterable[str], message: str) -> None:
    if current not in tuple(allowed):
        raise InvalidTransition(message)


def _require_department_of(actor: Actor, assignment: Assignment) -> None:
    if not (actor.is_department and actor.department_code == assignment.department_code):
        raise NotFound("交办单不存在", "assignment_not_found")


def required_reason(text: str, what: str) -> str:
    """A reason staff must give (退单、驳回、延期…): present and at most MAX_REASON_CHARS characters."""
    text = (text or "").strip()
    if not text:
        raise ValidationFailed(f"请填写{what}", "reason_required")
    if len(text) > MAX_REASON_CHARS:
        raise ValidationFailed(f"{what}不能超过{MAX_REASON_CHARS}字", "reason_too_long")
    return text


def current_assignments(session: Session, tip_id: int) -> list[Assignment]:
    """The assignments of the tip's latest dispatch round that still count."""
    latest = session.scalar(select(func.max(Assignment.round)).where(Assignment.tip_id == tip_id))
    if latest is None:
        return []
    rows = session.scalars(
        select(Assignment)
        .where(Assignment.tip_id == tip_id, Assignment.round == latest, Assignment.status.in_(ACTIVE))
        .order_by(Assignment.lead.desc(), Assignment.id)
    )
    return list(rows)


def _notify_reporter(session: Session, tip: Tip, kind: str, **payload: Any) -> None:
    outbox.enqueue(
        session, kind, "reporter", str(tip.reporter_id), ticket=tip.ticket, tip_id=tip.id, **payload
    )


def _notify_department(session: Session, assignment: Assignment, kind: str, tip: Tip, **payload: Any) -> None:
    outbox.enqueue(
        session,
        kind,
        "department",
        assignment.department_code,
        ticket=tip.ticket,
        tip_id=tip.id,
        assignment_id=assignment.id,
        **payload,
    )


def _notify_dispatchers(session: Session, kind: str, tip: Tip, **payload: Any) -> None:
    outbox.enqueue(session, kind, "dispatchers", "", ticket=tip.ticket, tip_id=tip.id, **payload)


# ---- tip-level transitions (dispatcher) --------------------------------------------------------


def dispatch(
    session: Session,
    actor: Actor,
    tip_id: int,
    order: DispatchOrder,
    tz: ZoneInfo,
    expected_version: int | None = None,
    now: datetime | None = None,
    cat: Catalogue | None = None,
) -> list[Assignment]:
    """派单: create one assignment per department with due dates; the tip leaves the queue."""
    require_dispatcher(actor)
    cat = cat or catalogue()
    now = now or utcnow()
    tip = lock_tip(session, tip_id, expected_version)
    _require_state(tip.status, [TipStatus.received], "只有待派单的工单可以派单")
    if order.category not in cat.categories:
        raise ValidationFailed("未知的问题类别", "unknown_category")
    if order.subtype not in cat.categories[order.category].subtypes:
        raise ValidationFailed("问题子类与类别不符", "unknown_subtype")
    if order.county_code and order.county_code not in cat.counties:
        raise ValidationFailed("未知的县区", "unknown_county")
    departments = [order.lead, *[d for d in dict.fromkeys(order.co_handlers) if d != order.lead]]
    known = set(session.scalars(select(Department.code).where(Department.code.in_(departments))))
    unknown = [d for d in departments if d not in known]
    if unknown:
        raise ValidationFailed(f"未知的承办单位：{'、'.join(unknown)}", "unknown_department")

    due = deadlines_for(
        order.category, order.subtype, order.urgent, tip.received_at, now, tz, cat, tip.clock_started_at
    )
    previous_round = (
        session.scalar(select(func.max(Assignment.round)).where(Assignment.tip_id == tip.id)) or 0
    )
    assignments = [
        Assignment(
            tip_id=tip.id,
            department_code=code,
            round=previous_round + 1,
            lead=(code == order.lead),
            sign_due_at=due.sign_due,
            due_at=due.complete_due,
        )
        for code in departments
    ]
    session.add_all(assignments)
    suggested = (tip.analysis or {}) if tip.analysis else {}
    corrected = bool(suggested) and (
        suggested.get("category") != order.category
        or suggested.get("subtype") != order.subtype
        or suggested.get("lead_department") != order.lead
        or bool(suggested.get("urgent")) != order.urgent
        or suggested.get("county_code") != order.county_code
    )
    tip.category, tip.subtype, tip.urgent = order.category, order.subtype, order.urgent
    tip.county_code = order.county_code
    if order.enterprise_id is not None:
        tip.enterprise_id = order.enterprise_id
    tip.status = TipStatus.dispatched
    tip.dispatched_at = now
    tip.due_at = due.complete_due
    tip.rectification_due = due.rectification_due
    session.flush()
    enterprise_uscc = tip.enterprise.uscc if tip.enterprise else None
    session.add(
        TipLabel(
            tip_id=tip.id,
            user_id=actor.user_id,
            category=order.category,
            subtype=order.subtype,
            department=order.lead,
            county_code=order.county_code,
            enterprise_uscc=enterprise_uscc,
            urgent=order.urgent,
            corrected=corrected,
        )
    )
    audit.record(
        session,
        actor,
        "dispatched",
        tip_id=tip.id,
        public=True,
        departments=departments,
        lead=order.lead,
        category=order.category,
        subtype=order.subtype,
        urgent=order.urgent,
        round=previous_round + 1,
        note=order.note,
    )
    for a in assignments:
        _notify_department(session, a, "assignment_new", tip, due_at=a.due_at.isoformat(), lead=a.lead)
    _notify_reporter(session, tip, "tip_dispatched", department=cat.department_name(order.lead))
    return assignments


def mark_invalid(
    session: Session, actor: Actor, tip_id: int, reason: str, expected_version: int | None = None
) -> Tip:
    """无效件: spam, abuse, or not a matter for the hotline."""
    require_dispatcher(actor)
    reason = required_reason(reason, "无效原因")
    tip = lock_tip(session, tip_id, expected_version)
    _require_state(tip.status, [TipStatus.received], "只有待派单的工单可以标记为无效件")
    tip.status, tip.status_reason, tip.closed_at = TipStatus.invalid, reason, utcnow()
    audit.record(session, actor, "marked_invalid", tip_id=tip.id, public=True, reason=reason)
    _notify_reporter(session, tip, "tip_invalid", reason=reason)
    return tip


def transfer(
    session: Session, actor: Actor, tip_id: int, target: str, expected_version: int | None = None
) -> Tip:
    """转办: an emergency that belongs to 110/119/120; the citizen is told to call it at once."""
    require_dispatcher(actor)
    if target not in {"110", "119", "120", "122"}:
        raise ValidationFailed("只能转办至110、119、120或122", "unknown_transfer_target")
    tip = lock_tip(session, tip_id, expected_version)
    _require_state(tip.status, [TipStatus.received], "只有待派单的工单可以转办")
    tip.status, tip.status_reason, tip.closed_at = TipStatus.transferred, target, utcnow()
    audit.record(session, actor, "transferred", tip_id=tip.id, public=True, target=target)
    _notify_reporter(session, tip, "tip_transferred", target=target)
    return tip


def merge(
    session: Session, actor: Actor, tip_id: int, into_ticket: str, expected_version: int | None = None
) -> Tip:
    """并单: a duplicate of an earlier tip; it follows the main tip from now on."""
    require_dispatcher(actor)
    tip = lock_tip(session, tip_id, expected_version)
    _require_state(tip.status, [TipStatus.received], "只有待派单的工单可以并单")
    main = session.scalar(select(Tip).where(Tip.ticket == into_ticket.strip()))
    if main is None:
        raise ValidationFailed("要合并到的工单不存在", "merge_target_not_found")
    if main.id == tip.id:
        raise ValidationFailed("不能与自身合并", "merge_into_self")
    if main.status in (TipStatus.merged, TipStatus.invalid):
        raise ValidationFailed("不能合并到重复件或无效件", "merge_target_invalid")
    tip.status, tip.merged_into_id, tip.closed_at = TipStatus.merged, main.id, utcnow()
    audit.record(session, actor, "merged", tip_id=tip.id, public=True, into=main.ticket)
    audit.record(session, actor, "duplicate_attached", tip_id=main.id, duplicate=tip.ticket)
    _notify_reporter(session, tip, "tip_merged", into=main.ticket)
    return tip


def reopen(
    session: Session,
    actor: Actor,
    tip_id: int,
    reason: str,
    tz: ZoneInfo,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Tip:
    """重办: the dispatcher accepts an unsatisfied callback; the tip goes back to the queue.

    A new handling round: its deadlines count from now (the first round's dates are long past), so the
    queue does not show it overdue at once and the new assignments get their full time.
    """
    require_dispatcher(actor)
    reason = required_reason(reason, "重办原因")
    now = now or utcnow()
    tip = lock_tip(session, tip_id, expected_version)
    _require_state(tip.status, [TipStatus.closed], "只有已办结的工单可以重办")
    tip.status, tip.closed_at, tip.reopened_at = TipStatus.received, None, now
    tip.due_at = provisional_due(now, tz, tip.urgent)
    audit.record(session, actor, "reopened", tip_id=tip.id, public=True, reason=reason)
    return tip


def record_satisfaction(session: Session, actor: Actor, tip_id: int, value: str) -> Tip:
    """回访: the citizen's rating of a closed tip; given once."""
    if value not in SATISFACTION_VALUES:
        raise ValidationFailed("评价只能是：满意、基本满意、不满意", "invalid_satisfaction")
    tip = lock_tip(session, tip_id)
    _require_state(tip.status, [TipStatus.closed], "工单办结后才能评价")
    if tip.satisfaction is not None:
        raise InvalidTransition("此工单已经评价过了，谢谢您")
    tip.satisfaction = value
    audit.record(session, actor, "rated", tip_id=tip.id, public=True, satisfaction=value)
    if value == "不满意":
        _notify_dispatchers(session, "tip_unsatisfied", tip)
    return tip


# ---- assignment-level transitions --------------------------------------------------------------


def sign(
    session: Session, actor: Actor, assignment_id: int, expected_version: int | None = None
) -> Assignment:
    """签收: the department accepts the assignment."""
    a = lock_assignment(session, actor, assignment_id, expected_version)
    _require_department_of(actor, a)
    _require_state(a.status, [AssignmentStatus.pending], "只有待签收的交办单可以签收")
    a.status, a.signed_at = AssignmentStatus.accepted, utcnow()
    tip = a.tip
    if tip.status == TipStatus.dispatched:
        tip.status = TipStatus.in_progress
    audit.record(
        session,
        actor,
        "signed",
        tip_id=tip.id,
        assignment_id=a.id,
        public=a.lead,
        department=a.department_code,
    )
    return a


def reply(
    session: Session, actor: Actor, assignment_id: int, text: str, expected_version: int | None = None
) -> Assignment:
    """办结反馈: findings and actions; when every current assignment has replied the tip awaits review."""
    body = required_reason(text, "办理结果")
    a = lock_assignment(session, actor, assignment_id, expected_version)
    _require_department_of(actor, a)
    _require_state(a.status, [AssignmentStatus.accepted], "签收后才能反馈办理结果")
    a.status, a.reply_text, a.replied_at = AssignmentStatus.replied, body, utcnow()
    tip = a.tip
    audit.record(session, actor, "replied", tip_id=tip.id, assignment_id=a.id, department=a.department_code)
    session.flush()
    if all(
        x.status in (AssignmentStatus.replied, AssignmentStatus.approved)
        for x in current_assignments(session, tip.id)
    ):
        tip.status = TipStatus.replied
        audit.record(session, actor, "all_replied", tip_id=tip.id, public=True)
    _notify_dispatchers(session, "assignment_replied", tip, assignment_id=a.id)
    return a


def approve(
    session: Session, actor: Actor, assignment_id: int, expected_version: int | None = None
) -> Assignment:
    """审核通过: the dispatcher accepts a reply; the last approval closes the tip (办结)."""
    require_dispatcher(actor)
    a = lock_assignment(session, actor, assignment_id, expected_version)
    _require_state(a.status, [AssignmentStatus.replied], "只有已反馈的交办单可以审核")
    now = utcnow()
    a.status, a.approved_at = AssignmentStatus.approved, now
    tip = a.tip
    audit.record(session, actor, "approved", tip_id=tip.id, assignment_id=a.id, department=a.department_code)
    session.flush()
    current = current_assignments(session, tip.id)
    if all(x.status == AssignmentStatus.approved for x in current):
        lead_reply = next((x.reply_text for x in current if x.lead), None) or current[0].reply_text
        tip.status, tip.closed_at, tip.result_summary = TipStatus.closed, now, lead_reply
        audit.record(session, actor, "closed", tip_id=tip.id, public=True, result=lead_reply)
        _notify_reporter(session, tip, "tip_closed", result=lead_reply)
    return a


def reject_reply(
    session: Session, actor: Actor, assignment_id: int, reason: str, expected_version: int | None = None
) -> Assignment:
    """驳回: the reply is not good enough; the department works on (重办)."""
    require_dispatcher(actor)
    reason = required_reason(reason, "驳回理由")
    a = lock_assignment(session, actor, assignment_id, expected_version)
    _require_state(a.status, [AssignmentStatus.replied], "只有已反馈的交办单可以驳回")
    a.status = AssignmentStatus.accepted
    tip = a.tip
    if tip.status == TipStatus.replied:
        tip.status = TipStatus.in_progress
    audit.record(session, actor, "reply_rejected", tip_id=tip.id, assignment_id=a.id, reason=reason)
    _notify_department(session, a, "reply_rejected", tip, reason=reason)
    return a


def return_(
    session: Session,
    actor: Actor,
    assignment_id: int,
    reason: str,
    tz: ZoneInfo,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Assignment:
    """退单: not this department's duty. A returned lead sends the whole tip back to the dispatcher's queue."""
    reason = required_reason(reason, "退单理由")
    now = now or utcnow()
    a = lock_assignment(session, actor, assignment_id, expected_version)
    _require_department_of(actor, a)
    _require_state(a.status, [AssignmentStatus.pending, AssignmentStatus.accepted], "已反馈的交办单不能退回")
    if now > return_allowed_until(a.created_at, tz):
        raise InvalidTransition("已超过退单时限（派单后2个工作日内），请联系派单员")
    a.status, a.return_reason = AssignmentStatus.returned, reason
    tip = a.tip
    audit.record(
        session,
        actor,
        "returned",
        tip_id=tip.id,
        assignment_id=a.id,
        department=a.department_code,
        reason=reason,
    )
    if a.lead:
        for other in current_assignments(session, tip.id):
            other.status = AssignmentStatus.cancelled
            _notify_department(session, other, "assignment_cancelled", tip)
        tip.status, tip.dispatched_at = TipStatus.received, None
        tip.due_at = provisional_due(tip.clock_started_at, tz, tip.urgent)
        audit.record(session, actor, "back_to_queue", tip_id=tip.id, public=True)
    _notify_dispatchers(session, "assignment_returned", tip, assignment_id=a.id, reason=reason)
    return a


def request_extension(
    session: Session,
    actor: Actor,
    assignment_id: int,
    days: int,
    reason: str,
    expected_version: int | None = None,
    cat: Catalogue | None = None,
) -> Assignment:
    """延期申请: at most one, of at most the catalogue's limit in working days."""
    cat = cat or catalogue()
    reason = required_reason(reason, "延期理由")
    limit = cat.limits.max_extension_working_days
    if not 1 <= days <= limit:
        raise ValidationFailed(f"延期天数须在1至{limit}个工作日之间", "invalid_extension_days")
    a = lock_assignment(session, actor, assignment_id, expected_version)
    _require_department_of(actor, a)
    _require_state(
        a.status, [AssignmentStatus.pending, AssignmentStatus.accepted], "只有办理中的交办单可以申请延期"
    )
    if a.extension_state is not None:
        raise InvalidTransition("每个交办单只能申请一次延期")
    a.extension_state, a.extension_days, a.extension_reason = ExtensionState.requested, days, reason
    audit.record(
        session, actor, "extension_requested", tip_id=a.tip_id, assignment_id=a.id, days=days, reason=reason
    )
    _notify_dispatchers(session, "extension_requested", a.tip, assignment_id=a.id, days=days)
    return a


def decide_extension(
    session: Session,
    actor: Actor,
    assignment_id: int,
    grant: bool,
    tz: ZoneInfo,
    reason: str = "",
    expected_version: int | None = None,
) -> Assignment:
    """延期审批: granting moves the due date by the requested working days; the citizen is told."""
    require_dispatcher(actor)
    if not grant:
        reason = required_reason(reason, "不同意延期的理由")
    a = lock_assignment(session, actor, assignment_id, expected_version)
    if a.extension_state != ExtensionState.requested:
        raise InvalidTransition("没有待审批的延期申请")
    tip = a.tip
    if grant:
        assert a.extension_days is not None
        old_due = a.due_at
        a.due_at = extended_due(a.due_at, a.extension_days, tz)
        a.extension_state = ExtensionState.granted
        if a.lead or tip.due_at is None or a.due_at > tip.due_at:
            tip.due_at = max(x.due_at for x in current_assignments(session, tip.id))
        audit.record(
            session,
            actor,
            "extension_granted",
            tip_id=tip.id,
            assignment_id=a.id,
            public=True,
            days=a.extension_days,
            old_due=old_due.isoformat(),
            new_due=a.due_at.isoformat(),
        )
        _notify_reporter(session, tip, "tip_extended", due_at=a.due_at.isoformat())
    else:
        a.extension_state = ExtensionState.refused
        audit.record(session, actor, "extension_refused", tip_id=tip.id, assignment_id=a.id, reason=reason)
    _notify_department(session, a, "extension_decided", tip, granted=grant, reason=reason)
    return a
