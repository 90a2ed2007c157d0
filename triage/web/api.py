"""The staff JSON API (/api/v1/staff, bearer tokens): the queue, tip detail and every work-order transition.

Thin: each route parses input, runs one service function in one transaction and shapes the answer.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from models.db import unit_of_work
from models.tips import Tip
from models.workorders import Assignment
from triage import queue, workorders
from triage.accounts import reveal_reporter
from triage.actors import Actor
from triage.web.deps import AppState, CurrentActor, DbSession, RowId

router = APIRouter(prefix="/api/v1/staff", tags=["staff"])
T = TypeVar("T")


class AssignmentOut(BaseModel):
    id: int
    tip_id: int
    ticket: str
    department: str
    lead: bool
    round: int
    status: str
    sign_due_at: datetime
    due_at: datetime
    overdue: bool
    extension_state: str | None
    extension_days: int | None
    reply_text: str | None
    return_reason: str | None
    version: int

    @classmethod
    def of(cls, a: Assignment) -> "AssignmentOut":
        return cls(
            id=a.id,
            tip_id=a.tip_id,
            ticket=a.tip.ticket,
            department=a.department_code,
            lead=a.lead,
            round=a.round,
            status=a.status,
            sign_due_at=a.sign_due_at,
            due_at=a.due_at,
            overdue=queue.assignment_overdue(a),
            extension_state=a.extension_state,
            extension_days=a.extension_days,
            reply_text=a.reply_text,
            return_reason=a.return_reason,
            version=a.version,
        )


class TipOut(BaseModel):
    id: int
    ticket: str
    channel: str
    text: str
    place: str
    enterprise_name: str
    status: str
    category: str | None
    subtype: str | None
    urgent: bool
    county_code: str | None
    enterprise_uscc: str | None
    triage_state: str
    analysis: dict[str, Any] | None
    received_at: datetime
    due_at: datetime | None
    overdue: bool
    suggestion_to_check: bool  # the engine is unsure of its suggestion (queue.CHECK_BELOW_CONFIDENCE)
    version: int

    @classmethod
    def of(cls, tip: Tip) -> "TipOut":
        return cls(
            id=tip.id,
            ticket=tip.ticket,
            channel=tip.channel,
            text=tip.text,
            place=tip.place,
            enterprise_name=tip.enterprise_name,
            status=tip.status,
            category=tip.category,
            subtype=tip.subtype,
            urgent=tip.urgent,
            county_code=tip.county_code,
            enterprise_uscc=tip.enterprise.uscc if tip.enterprise else None,
            triage_state=tip.triage_state,
            analysis=tip.analysis,
            received_at=tip.received_at,
            due_at=tip.due_at,
            overdue=queue.tip_overdue(tip),
            suggestion_to_check=queue.suggestion_to_check(tip),
            version=tip.version,
        )


class QueueOut(BaseModel):
    total: int
    tips: list[TipOut]


class EventOut(BaseModel):
    at: datetime
    action: str
    actor: str
    detail: dict[str, Any]


class TipDetailOut(BaseModel):
    tip: TipOut
    assignments: list[AssignmentOut]
    history: list[EventOut]


class DispatchIn(BaseModel):
    category: str
    subtype: str
    lead: str
    co_handlers: list[str] = []
    urgent: bool = False
    county_code: str | None = None
    note: str = ""
    version: int | None = Field(None, description="the tip version the dispatcher saw; a newer one gives 409")


class ReasonIn(BaseModel):
    reason: str
    version: int | None = None


class MergeIn(BaseModel):
    into_ticket: str
    version: int | None = None


class TransferIn(BaseModel):
    target: str = Field(description="110、119、120 或 122")
    version: int | None = None


class VersionIn(BaseModel):
    version: int | None = None


class ReplyIn(BaseModel):
    text: str
    version: int | None = None


class ExtensionIn(BaseModel):
    days: int
    reason: str
    version: int | None = None


class ExtensionDecisionIn(BaseModel):
    grant: bool
    reason: str = ""
    version: int | None = None


class ReporterOut(BaseModel):
    anonymous: bool
    name: str | None
    contact: str | None
    telegram: bool


def _in_transaction(state: Any, work: Callable[[Session], T]) -> T:
    with unit_of_work(state.sessions) as session:
        return work(session)


def _tip_action(state: Any, actor: Actor, tip_id: int, action: Callable[[Session], object]) -> TipDetailOut:
    """Run one tip transition in its own transaction and answer with the tip as the actor now sees it."""

    def work(s: Session) -> TipDetailOut:
        action(s)
        s.flush()
        return _tip_detail(s, actor, tip_id)

    return _in_transaction(state, work)


def _tip_detail(session: Session, actor: Actor, tip_id: int) -> TipDetailOut:
    detail = queue.tip_detail(session, actor, tip_id)
    return TipDetailOut(
        tip=TipOut.of(detail.tip),
        assignments=[AssignmentOut.of(a) for a in detail.assignments],
        history=[
            EventOut(at=e.created_at, action=e.action, actor=e.actor, detail=e.detail) for e in detail.history
        ],
    )


@router.get("/tips", response_model=QueueOut)
def list_tips(
    actor: CurrentActor,
    db: DbSession,
    status: str | None = None,
    category: str | None = None,
    county: str | None = None,
    overdue: bool = False,
    page: int = 1,
    to_check: bool = False,
) -> QueueOut:
    filters = queue.QueueFilter(status, category, county, overdue, page, to_check)
    tips, total = queue.list_queue(db, actor, filters)
    return QueueOut(total=total, tips=[TipOut.of(t) for t in tips])


@router.get("/tips/{tip_id}", response_model=TipDetailOut)
def get_tip(tip_id: RowId, actor: CurrentActor, db: DbSession) -> TipDetailOut:
    return _tip_detail(db, actor, tip_id)


@router.get("/tips/{tip_id}/reporter", response_model=ReporterOut)
def get_reporter(tip_id: RowId, actor: CurrentActor, state: AppState) -> ReporterOut:
    identity = _in_transaction(state, lambda s: reveal_reporter(s, actor, tip_id))
    return ReporterOut.model_validate(identity, from_attributes=True)


@router.post("/tips/{tip_id}/dispatch", response_model=TipDetailOut)
def dispatch_tip(tip_id: RowId, body: DispatchIn, actor: CurrentActor, state: AppState) -> TipDetailOut:
    order = workorders.DispatchOrder(
        category=body.category,
        subtype=body.subtype,
        lead=body.lead,
        co_handlers=tuple(body.co_handlers),
        urgent=body.urgent,
        county_code=body.county_code,
        note=body.note,
    )

    return _tip_action(
        state,
        actor,
        tip_id,
        lambda s: workorders.dispatch(s, actor, tip_id, order, state.settings.tz, body.version),
    )


@router.post("/tips/{tip_id}/invalid", response_model=TipDetailOut)
def mark_tip_invalid(tip_id: RowId, body: ReasonIn, actor: CurrentActor, state: AppState) -> TipDetailOut:
    return _tip_action(
        state, actor, tip_id, lambda s: workorders.mark_invalid(s, actor, tip_id, body.reason, body.version)
    )


@router.post("/tips/{tip_id}/merge", response_model=TipDetailOut)
def merge_tip(tip_id: RowId, body: MergeIn, actor: CurrentActor, state: AppState) -> TipDetailOut:
    return _tip_action(
        state, actor, tip_id, lambda s: workorders.merge(s, actor, tip_id, body.into_ticket, body.version)
    )


@router.post("/tips/{tip_id}/transfer", response_model=TipDetailOut)
def transfer_tip(tip_id: RowId, body: TransferIn, actor: CurrentActor, state: AppState) -> TipDetailOut:
    return _tip_action(
        state, actor, tip_id, lambda s: workorders.transfer(s, actor, tip_id, body.target, body.version)
    )


@router.post("/tips/{tip_id}/reopen", response_model=TipDetailOut)
def reopen_tip(tip_id: RowId, body: ReasonIn, actor: CurrentActor, state: AppState) -> TipDetailOut:
    return _tip_action(
        state,
        actor,
        tip_id,
        lambda s: workorders.reopen(s, actor, tip_id, body.reason, state.settings.tz, body.version),
    )


@router.get("/assignments", response_model=list[AssignmentOut])
def list_assignments(
    actor: CurrentActor, db: DbSession, include_done: bool = False, department: str | None = None
) -> list[AssignmentOut]:
    return [AssignmentOut.of(a) for a in queue.department_inbox(db, actor, include_done, department)]


def _assignment_action(state: Any, actor: Actor, action: Callable[[Session], Assignment]) -> AssignmentOut:
    def work(s: Session) -> AssignmentOut:
        assignment = action(s)
        s.flush()
        s.refresh(assignment)
        return AssignmentOut.of(assignment)

    return _in_transaction(state, work)


@router.post("/assignments/{assignment_id}/sign", response_model=AssignmentOut)
def sign_assignment(
    assignment_id: RowId, body: VersionIn, actor: CurrentActor, state: AppState
) -> AssignmentOut:
    return _assignment_action(state, actor, lambda s: workorders.sign(s, actor, assignment_id, body.version))


@router.post("/assignments/{assignment_id}/reply", response_model=AssignmentOut)
def reply_assignment(
    assignment_id: RowId, body: ReplyIn, actor: CurrentActor, state: AppState
) -> AssignmentOut:
    return _assignment_action(
        state, actor, lambda s: workorders.reply(s, actor, assignment_id, body.text, body.version)
    )


@router.post("/assignments/{assignment_id}/return", response_model=AssignmentOut)
def return_assignment(
    assignment_id: RowId, body: ReasonIn, actor: CurrentActor, state: AppState
) -> AssignmentOut:
    return _assignment_action(
        state,
        actor,
        lambda s: workorders.return_(s, actor, assignment_id, body.reason, state.settings.tz, body.version),
    )


@router.post("/assignments/{assignment_id}/extension", response_model=AssignmentOut)
def request_extension(
    assignment_id: RowId, body: ExtensionIn, actor: CurrentActor, state: AppState
) -> AssignmentOut:
    return _assignment_action(
        state,
        actor,
        lambda s: workorders.request_extension(s, actor, assignment_id, body.days, body.reason, body.version),
    )


@router.post("/assignments/{assignment_id}/extension/decision", response_model=AssignmentOut)
def decide_extension(
    assignment_id: RowId, body: ExtensionDecisionIn, actor: CurrentActor, state: AppState
) -> AssignmentOut:
    return _assignment_action(
        state,
        actor,
        lambda s: workorders.decide_extension(
            s, actor, assignment_id, body.grant, state.settings.tz, body.reason, body.version
        ),
    )


@router.post("/assignments/{assignment_id}/approve", response_model=AssignmentOut)
def approve_assignment(
    assignment_id: RowId, body: VersionIn, actor: CurrentActor, state: AppState
) -> AssignmentOut:
    return _assignment_action(
        state, actor, lambda s: workorders.approve(s, actor, assignment_id, body.version)
    )


@router.post("/assignments/{assignment_id}/reject", response_model=AssignmentOut)
def reject_assignment(
    assignment_id: RowId, body: ReasonIn, actor: CurrentActor, state: AppState
) -> AssignmentOut:
    return _assignment_action(
        state, actor, lambda s: workorders.reject_reply(s, actor, assignment_id, body.reason, body.version)
    )
