"""The staff pages' form posts: one work-order transition each, in one transaction, then back with a notice.

Every route checks the CSRF token. Errors (409 stale version, illegal transition, missing reason) are
HotlineErrors, shown by the app's error page with their status.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse

from models.db import unit_of_work
from triage import workorders
from triage.routing import catalogue
from triage.web.deps import AppState, CurrentActor, RowId, check_csrf
from triage.web.presenters import parse_kind
from triage.web.staff_page import done, safe_local

router = APIRouter(dependencies=[Depends(check_csrf)])

Version = Annotated[int | None, Form()]
Reason = Annotated[str, Form()]
Back = Annotated[str, Form()]


def _tip_url(tip_id: int) -> str:
    return f"/staff/tips/{tip_id}"


# ---- tip-level (dispatcher) --------------------------------------------------------------------


@router.post("/tips/{tip_id}/dispatch")
def dispatch(
    request: Request,
    tip_id: RowId,
    actor: CurrentActor,
    state: AppState,
    kind: Annotated[str, Form()],
    lead: Annotated[str, Form()],
    co_handlers: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI form default
    urgent: Annotated[str, Form()] = "",
    county_code: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    version: Version = None,
) -> RedirectResponse:
    category, subtype = parse_kind(kind)
    order = workorders.DispatchOrder(
        category=category,
        subtype=subtype,
        lead=lead,
        co_handlers=tuple(co_handlers),
        urgent=bool(urgent),
        county_code=county_code or None,
        note=note.strip(),
    )
    cat = catalogue(state.settings.routing_file)
    with unit_of_work(state.sessions) as db:
        workorders.dispatch(db, actor, tip_id, order, state.settings.tz, version, cat=cat)
    return done(request, _tip_url(tip_id), f"已派单，主办单位：{cat.department_name(lead)}")


@router.post("/tips/{tip_id}/invalid")
def mark_invalid(
    request: Request,
    tip_id: RowId,
    actor: CurrentActor,
    state: AppState,
    reason: Reason,
    version: Version = None,
) -> RedirectResponse:
    with unit_of_work(state.sessions) as db:
        workorders.mark_invalid(db, actor, tip_id, reason, version)
    return done(request, _tip_url(tip_id), "已标记为无效件")


@router.post("/tips/{tip_id}/merge")
def merge(
    request: Request,
    tip_id: RowId,
    actor: CurrentActor,
    state: AppState,
    into_ticket: Annotated[str, Form()],
    version: Version = None,
) -> RedirectResponse:
    with unit_of_work(state.sessions) as db:
        tip = workorders.merge(db, actor, tip_id, into_ticket, version)
        main_id = tip.merged_into_id
    return done(request, _tip_url(tip_id), f"已并入工单 {into_ticket.strip()}（第{main_id}号）")


@router.post("/tips/{tip_id}/transfer")
def transfer(
    request: Request,
    tip_id: RowId,
    actor: CurrentActor,
    state: AppState,
    target: Annotated[str, Form()],
    version: Version = None,
) -> RedirectResponse:
    with unit_of_work(state.sessions) as db:
        workorders.transfer(db, actor, tip_id, target, version)
    return done(request, _tip_url(tip_id), f"已转办 {target}，系统已通知举报人")


@router.post("/tips/{tip_id}/reopen")
def reopen(
    request: Request,
    tip_id: RowId,
    actor: CurrentActor,
    state: AppState,
    reason: Reason,
    version: Version = None,
) -> RedirectResponse:
    with unit_of_work(state.sessions) as db:
        workorders.reopen(db, actor, tip_id, reason, state.settings.tz, version)
    return done(request, _tip_url(tip_id), "已重办，工单回到分拣队列，请重新派单")


# ---- assignment-level (dispatcher: review; department: work) -------------------------------------


@router.post("/assignments/{assignment_id}/approve")
def approve(
    request: Request, assignment_id: RowId, actor: CurrentActor, state: AppState, version: Version = None
) -> RedirectResponse:
    with unit_of_work(state.sessions) as db:
        a = workorders.approve(db, actor, assignment_id, version)
        tip_id, closed = a.tip_id, a.tip.status == "closed"
    return done(request, _tip_url(tip_id), "审核通过，工单已办结" if closed else "审核通过")


@router.post("/assignments/{assignment_id}/reject")
def reject(
    request: Request,
    assignment_id: RowId,
    actor: CurrentActor,
    state: AppState,
    reason: Reason,
    version: Version = None,
) -> RedirectResponse:
    with unit_of_work(state.sessions) as db:
        tip_id = workorders.reject_reply(db, actor, assignment_id, reason, version).tip_id
    return done(request, _tip_url(tip_id), "已驳回反馈，承办单位须重新办理")


@router.post("/assignments/{assignment_id}/extension/decision")
def decide_extension(
    request: Request,
    assignment_id: RowId,
    actor: CurrentActor,
    state: AppState,
    grant: Annotated[str, Form()],
    reason: Reason = "",
    version: Version = None,
) -> RedirectResponse:
    granted = grant == "1"
    with unit_of_work(state.sessions) as db:
        a = workorders.decide_extension(db, actor, assignment_id, granted, state.settings.tz, reason, version)
        tip_id = a.tip_id
    return done(request, _tip_url(tip_id), "已同意延期" if granted else "已不同意延期")


@router.post("/assignments/{assignment_id}/sign")
def sign(
    request: Request,
    assignment_id: RowId,
    actor: CurrentActor,
    state: AppState,
    version: Version = None,
    back: Back = "",
) -> RedirectResponse:
    with unit_of_work(state.sessions) as db:
        ticket = workorders.sign(db, actor, assignment_id, version).tip.ticket
    return done(request, safe_local(back) or "/staff/inbox", f"已签收 {ticket}")


@router.post("/assignments/{assignment_id}/reply")
def reply(
    request: Request,
    assignment_id: RowId,
    actor: CurrentActor,
    state: AppState,
    text: Annotated[str, Form()],
    version: Version = None,
    back: Back = "",
) -> RedirectResponse:
    with unit_of_work(state.sessions) as db:
        ticket = workorders.reply(db, actor, assignment_id, text, version).tip.ticket
    return done(request, safe_local(back) or "/staff/inbox", f"已反馈 {ticket} 的办理结果，等待审核")


@router.post("/assignments/{assignment_id}/extension")
def request_extension(
    request: Request,
    assignment_id: RowId,
    actor: CurrentActor,
    state: AppState,
    days: Annotated[int, Form()],
    reason: Reason,
    version: Version = None,
    back: Back = "",
) -> RedirectResponse:
    cat = catalogue(state.settings.routing_file)
    with unit_of_work(state.sessions) as db:
        ticket = workorders.request_extension(db, actor, assignment_id, days, reason, version, cat).tip.ticket
    return done(request, safe_local(back) or "/staff/inbox", f"已提交 {ticket} 的延期申请（{days}个工作日）")


@router.post("/assignments/{assignment_id}/return")
def return_(
    request: Request,
    assignment_id: RowId,
    actor: CurrentActor,
    state: AppState,
    reason: Reason,
    version: Version = None,
    back: Back = "",
) -> RedirectResponse:
    with unit_of_work(state.sessions) as db:
        ticket = workorders.return_(db, actor, assignment_id, reason, state.settings.tz, version).tip.ticket
    # The tip is no longer this department's: back to the inbox, not to a page that would now be a 404.
    return done(request, "/staff/inbox" if actor.is_department else safe_local(back), f"已退回 {ticket}")
