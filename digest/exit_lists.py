"""The 黄牌/红牌 exit lists: public listing, and changes a department proposes and the bureau decides.

黄牌 means the enterprise must rectify by a date; 红牌 means it is closed (and any tip about it is a
suspected restart). The register's `exit_list` changes only through an approved proposal (or an import
of the register); every proposal and decision is an audit event.
"""

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from models.base import utcnow
from models.digest import ExitListChange, ExitListChangeStatus
from models.register import Enterprise
from models.workorders import Assignment, AssignmentStatus
from triage import audit, outbox
from triage.actors import Actor
from triage.errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationFailed
from triage.workorders import required_reason

YELLOW, RED, NONE = "黄牌", "红牌", ""
TARGETS = (YELLOW, RED, NONE)
# A department may propose from an assignment it is working on or has finished.
PROPOSING_STATES = (AssignmentStatus.accepted, AssignmentStatus.replied, AssignmentStatus.approved)


@dataclass(frozen=True)
class Proposal:
    uscc: str
    target_list: str  # 黄牌, 红牌 or "" to take the enterprise off the lists
    reason: str
    rectify_by: date | None = None  # required for 黄牌
    assignment_id: int | None = None  # the work order whose reply grounds the proposal


@dataclass(frozen=True)
class ListedEnterprise:
    name: str
    uscc: str
    county: str
    town: str
    industry: str
    exit_list: str
    listed_on: date | None
    rectify_by: date | None
    from_work_order: bool  # listed through an approved proposal rather than the imported register


@dataclass(frozen=True)
class PublicLists:
    yellow: list[ListedEnterprise]
    red: list[ListedEnterprise]


def propose(
    session: Session, actor: Actor, proposal: Proposal, now: datetime | None = None
) -> ExitListChange:
    """A department (or the bureau) proposes a list change; the bureau decides it."""
    if not (actor.is_department or actor.is_bureau):
        raise Forbidden("只有承办单位和市局可以提出名单变更", "department_only")
    if proposal.target_list not in TARGETS:
        raise ValidationFailed("名单只能是黄牌、红牌或移出名单", "invalid_exit_list")
    reason = required_reason(proposal.reason, "变更理由")
    enterprise = session.scalar(select(Enterprise).where(Enterprise.uscc == proposal.uscc.strip().upper()))
    if enterprise is None:
        raise ValidationFailed("企业名录中没有这个统一社会信用代码", "enterprise_not_found")
    if enterprise.exit_list == proposal.target_list:
        raise ValidationFailed("该企业已在此名单状态", "exit_list_unchanged")
    if proposal.target_list == YELLOW and proposal.rectify_by is None:
        raise ValidationFailed("列入黄牌须填写整改期限", "rectify_by_required")
    tip_id = None
    if proposal.assignment_id is not None:
        assignment = session.get(Assignment, proposal.assignment_id)
        mine = assignment is not None and (
            actor.is_bureau or assignment.department_code == actor.department_code
        )
        if assignment is None or not mine:
            raise NotFound("交办单不存在", "assignment_not_found")
        if assignment.status not in PROPOSING_STATES:
            raise InvalidTransition("签收后才能根据交办单提出名单变更")
        tip_id = assignment.tip_id
    pending = session.scalar(
        select(ExitListChange.id).where(
            ExitListChange.enterprise_id == enterprise.id,
            ExitListChange.status == ExitListChangeStatus.proposed,
        )
    )
    if pending is not None:
        raise Conflict("该企业已有待审批的名单变更", "exit_list_change_pending")
    change = ExitListChange(
        enterprise_id=enterprise.id,
        previous_list=enterprise.exit_list,
        target_list=proposal.target_list,
        rectify_by=proposal.rectify_by if proposal.target_list == YELLOW else None,
        reason=reason,
        tip_id=tip_id,
        assignment_id=proposal.assignment_id,
        proposed_by_user_id=actor.user_id,
        proposed_department=actor.department_code,
        proposed_at=now or utcnow(),
    )
    session.add(change)
    session.flush()
    audit.record(
        session,
        actor,
        "exit_list_proposed",
        tip_id=tip_id,
        assignment_id=proposal.assignment_id,
        change_id=change.id,
        uscc=enterprise.uscc,
        previous=enterprise.exit_list,
        target=proposal.target_list,
        rectify_by=proposal.rectify_by.isoformat() if proposal.rectify_by else None,
    )
    outbox.enqueue(
        session,
        "exit_list_proposed",
        "bureau",
        "",
        change_id=change.id,
        uscc=enterprise.uscc,
        name=enterprise.name,
    )
    return change


def decide(
    session: Session,
    actor: Actor,
    change_id: int,
    approve: bool,
    note: str = "",
    tz: ZoneInfo | None = None,
    now: datetime | None = None,
) -> ExitListChange:
    """The bureau approves (the register changes at once) or rejects (with a reason) a proposal."""
    if not actor.is_bureau:
        raise Forbidden("只有市局可以审批名单变更", "bureau_only")
    change = session.get(ExitListChange, change_id, with_for_update=True, populate_existing=True)
    if change is None:
        raise NotFound("名单变更申请不存在", "exit_list_change_not_found")
    if change.status != ExitListChangeStatus.proposed:
        raise InvalidTransition("该申请已经审批过了")
    note = (note or "").strip()
    if not approve and not note:
        raise ValidationFailed("不批准时请填写理由", "reason_required")
    now = now or utcnow()
    enterprise = session.get(Enterprise, change.enterprise_id, with_for_update=True, populate_existing=True)
    assert enterprise is not None
    change.status = ExitListChangeStatus.approved if approve else ExitListChangeStatus.rejected
    change.decided_by_user_id, change.decided_at, change.decision_note = actor.user_id, now, note or None
    if approve:
        change.previous_list = enterprise.exit_list  # as it stands when the change takes effect
        enterprise.exit_list = change.target_list
        enterprise.exit_list_date = (
            now.astimezone(tz or ZoneInfo("Asia/Shanghai")).date() if change.target_list else None
        )
    audit.record(
        session,
        actor,
        "exit_list_approved" if approve else "exit_list_rejected",
        tip_id=change.tip_id,
        change_id=change.id,
        uscc=enterprise.uscc,
        previous=change.previous_list,
        target=change.target_list,
        note=note,
    )
    if change.proposed_department:
        outbox.enqueue(
            session,
            "exit_list_decided",
            "department",
            change.proposed_department,
            change_id=change.id,
            approved=approve,
            name=enterprise.name,
            note=note,
        )
    session.flush()
    return change


def list_proposals(session: Session, actor: Actor) -> list[ExitListChange]:
    """Proposals newest first: a department sees its own, the bureau and dispatchers all."""
    query = select(ExitListChange).options(selectinload(ExitListChange.enterprise))
    if actor.is_department:
        query = query.where(ExitListChange.proposed_department == actor.department_code)
    elif not (actor.is_bureau or actor.is_dispatcher):
        raise Forbidden("无权查看", "staff_only")
    return list(session.scalars(query.order_by(ExitListChange.id.desc()).limit(500)))


def public_lists(session: Session, county_code: str | None = None) -> PublicLists:
    """Every enterprise on the 黄牌 or 红牌 list, with its dates, for the public page."""
    latest = (
        select(ExitListChange.enterprise_id, func.max(ExitListChange.id).label("change_id"))
        .where(ExitListChange.status == ExitListChangeStatus.approved)
        .group_by(ExitListChange.enterprise_id)
        .subquery()
    )
    query = (
        select(Enterprise, ExitListChange)
        .outerjoin(latest, latest.c.enterprise_id == Enterprise.id)
        .outerjoin(ExitListChange, ExitListChange.id == latest.c.change_id)
        .where(Enterprise.exit_list.in_((YELLOW, RED)))
        .order_by(Enterprise.exit_list_date.desc(), Enterprise.uscc)
    )
    if county_code:
        query = query.where(Enterprise.county_code == county_code)
    rows: list[ListedEnterprise] = []
    for e, change in session.execute(query):
        # The latest approved change explains the current listing only if it put the enterprise there.
        ours = change is not None and change.target_list == e.exit_list
        rows.append(
            ListedEnterprise(
                name=e.name,
                uscc=e.uscc,
                county=e.county,
                town=e.town,
                industry=e.industry,
                exit_list=e.exit_list,
                listed_on=e.exit_list_date,
                rectify_by=change.rectify_by if ours and change is not None else None,
                from_work_order=ours and change is not None and change.tip_id is not None,
            )
        )
    return PublicLists(
        yellow=[r for r in rows if r.exit_list == YELLOW], red=[r for r in rows if r.exit_list == RED]
    )
