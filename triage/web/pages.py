"""Staff pages (server-rendered, zh-CN): login, the dispatcher queue, tip detail, department inbox, overview.

Thin: each route parses input, calls one service (reads: triage.queue; writes: page_actions) and renders.
"""

import math
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from models.db import unit_of_work
from models.staff import User
from models.tips import Attachment
from triage import queue
from triage.accounts import ReporterIdentity, authenticate, reveal_reporter
from triage.actors import Actor
from triage.errors import NotFound, Unauthenticated
from triage.labels import ASSIGNMENT_STATUS, CHANNEL, EXTENSION_STATE, TIP_STATUS
from triage.routing import Catalogue, catalogue
from triage.web import page_actions
from triage.web.deps import (
    SESSION_USER_KEY,
    AppState,
    CurrentActor,
    DbSession,
    OptionalUser,
    RowId,
    check_csrf,
)
from triage.web.highlight import highlight_evidence
from triage.web.presenters import (
    TRIAGE_STATE,
    dispatch_defaults,
    history_lines,
    parse_kind,
    routed_defaults,
    suggestion_of,
)
from triage.web.rendering import render
from triage.web.staff_page import StaffUser, safe_local, staff_page

router = APIRouter(prefix="/staff", include_in_schema=False)
router.include_router(page_actions.router)

HOME_BY_ROLE = {"dispatcher": "/staff/queue", "department": "/staff/inbox", "bureau": "/staff/overview"}
EXCERPT_CHARS = 60


def _catalogue(request: Request) -> Catalogue:
    return catalogue(request.app.state.settings.routing_file)


# ---- login -------------------------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
def staff_home(user: OptionalUser) -> Response:
    if user is None:
        return RedirectResponse("/staff/login", status_code=303)
    return RedirectResponse(HOME_BY_ROLE.get(user.role, "/staff/login"), status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "") -> HTMLResponse:
    return render(request, "login.html", next=safe_local(next))


@router.post("/login", dependencies=[Depends(check_csrf)])
def login(
    request: Request,
    state: AppState,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "",
) -> Response:
    failure: Unauthenticated | None = None
    with unit_of_work(state.sessions) as db:
        # A failed attempt must be committed too: it counts towards the lockout after five failures.
        try:
            user = authenticate(db, username, password)
            uid, role = user.id, user.role
        except Unauthenticated as exc:
            failure = exc
    if failure is not None:
        return render(request, "login.html", status_code=401, error=failure.message, next=safe_local(next))
    request.session.clear()  # a fresh session (and CSRF token) at every login
    request.session[SESSION_USER_KEY] = uid
    return RedirectResponse(safe_local(next) or HOME_BY_ROLE.get(role, "/staff"), status_code=303)


@router.post("/logout", dependencies=[Depends(check_csrf)])
def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/staff/login", status_code=303)


# ---- dispatcher queue (分拣队列) -----------------------------------------------------------------


@router.get("/queue", response_class=HTMLResponse)
def queue_page(
    request: Request,
    user: StaffUser,
    db: DbSession,
    status: str = "",
    category: str = "",
    county: str = "",
    overdue: str = "",
    check: str = "",
    page: int = 1,
) -> HTMLResponse:
    filters = queue.QueueFilter(
        status=status or None,
        category=category or None,
        county_code=county or None,
        overdue=bool(overdue),
        page=max(page, 1),
        to_check=bool(check),
    )
    tips, total = queue.list_queue(db, Actor.of(user), filters)
    query = {
        "status": status,
        "category": category,
        "county": county,
        "overdue": "1" if overdue else "",
        "check": "1" if check else "",
    }
    return staff_page(
        request,
        "staff_queue.html",
        user,
        tips=tips,
        total=total,
        page=filters.page,
        pages=max(1, math.ceil(total / queue.PAGE_SIZE)),
        filters=query,
        page_query=urlencode({k: v for k, v in query.items() if v}),
        tip_status=TIP_STATUS,
        channels=CHANNEL,
        triage_state=TRIAGE_STATE,
        tip_overdue=queue.tip_overdue,
        to_check=queue.suggestion_to_check,
        excerpt_chars=EXCERPT_CHARS,
    )


# ---- tip detail -------------------------------------------------------------------------------


def _department_choices(cat: Catalogue) -> list[tuple[str, str]]:
    return [(code, cat.department_name(code)) for code in cat.all_department_codes()]


def _kind_choices(cat: Catalogue) -> list[tuple[str, list[tuple[str, str]]]]:
    return [
        (category.name, [(f"{code}/{sub}", name) for sub, name in category.subtypes.items()])
        for code, category in cat.categories.items()
    ]


def _tip_page(
    request: Request, db: DbSession, user: User, tip_id: int, reporter: ReporterIdentity | None = None
) -> HTMLResponse:
    actor = Actor.of(user)
    detail = queue.tip_detail(db, actor, tip_id)
    cat = _catalogue(request)
    tip = detail.tip
    analysis = tip.analysis or {}
    # Departments see the confirmed order, not the engine's guesses nor links to tips they cannot open.
    suggestion = None if actor.is_department else suggestion_of(db, tip, cat)
    return staff_page(
        request,
        "staff_tip.html",
        user,
        detail=detail,
        tip=tip,
        text_html=highlight_evidence(tip.text, analysis.get("evidence")),
        suggestion=suggestion,
        history=history_lines(db, detail.history, cat, request.app.state.settings.tz),
        defaults=dispatch_defaults(tip, cat),
        departments=_department_choices(cat),
        kinds=_kind_choices(cat),
        reporter=reporter,
        tip_status=TIP_STATUS,
        assignment_status=ASSIGNMENT_STATUS,
        extension_state=EXTENSION_STATE,
        channels=CHANNEL,
        triage_state=TRIAGE_STATE,
        tip_overdue=queue.tip_overdue,
        to_check=queue.suggestion_to_check,
        assignment_overdue=queue.assignment_overdue,
        max_extension_days=cat.limits.max_extension_working_days,
    )


@router.get("/tips/{tip_id}", response_class=HTMLResponse)
def tip_page(request: Request, tip_id: RowId, user: StaffUser, db: DbSession) -> HTMLResponse:
    return _tip_page(request, db, user, tip_id)


@router.post("/tips/{tip_id}/reporter", response_class=HTMLResponse, dependencies=[Depends(check_csrf)])
def reveal_reporter_page(
    request: Request, tip_id: RowId, user: StaffUser, db: DbSession, state: AppState
) -> HTMLResponse:
    """查看举报人: shown on this response only (never stored in the session), and every view is audited."""
    with unit_of_work(state.sessions) as write:
        identity = reveal_reporter(write, Actor.of(user), tip_id)
    db.rollback()  # a fresh read, so the history below includes this very view
    return _tip_page(request, db, user, tip_id, reporter=identity)


@router.get("/dispatch/departments", response_class=HTMLResponse)
def dispatch_departments(
    request: Request, user: StaffUser, kind: str = "", county_code: str = "", urgent: str = ""
) -> HTMLResponse:
    """htmx: the lead and co-handler fields, re-proposed by the routing rule when the category changes."""
    cat = _catalogue(request)
    category, subtype = parse_kind(kind)
    defaults = routed_defaults(cat, category, subtype, county_code, bool(urgent))
    return render(
        request,
        "staff_dispatch_departments.html",
        user=user,
        defaults=defaults,
        departments=_department_choices(cat),
    )


@router.get("/attachments/{attachment_id}")
def attachment(attachment_id: RowId, actor: CurrentActor, db: DbSession, state: AppState) -> Response:
    """A tip's photo, for staff who may see the tip (a department only through its own assignment)."""
    found = db.get(Attachment, attachment_id)
    if found is None:
        raise NotFound("附件不存在", "attachment_not_found")
    try:
        queue.tip_detail(db, actor, found.tip_id)
    except NotFound:
        raise NotFound("附件不存在", "attachment_not_found") from None
    # stored_name is ours, but never let a stored value walk out of the attachments folder.
    path = state.settings.attachments_dir / found.stored_name.replace("\\", "/").rsplit("/", 1)[-1]
    if not path.is_file():
        raise NotFound("附件文件已丢失", "attachment_missing")
    return FileResponse(
        path,
        media_type=found.content_type,
        headers={"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"},
    )


# ---- department inbox (本单位交办单) -----------------------------------------------------------


@router.get("/inbox", response_class=HTMLResponse)
def inbox_page(
    request: Request, user: StaffUser, db: DbSession, department: str = "", all: str = ""
) -> HTMLResponse:
    actor = Actor.of(user)
    assignments = queue.department_inbox(
        db, actor, include_done=bool(all), department_code=department or None
    )
    cat = _catalogue(request)
    return staff_page(
        request,
        "staff_inbox.html",
        user,
        assignments=assignments,
        department=department,
        include_done=bool(all),
        departments=_department_choices(cat),
        assignment_status=ASSIGNMENT_STATUS,
        extension_state=EXTENSION_STATE,
        assignment_overdue=queue.assignment_overdue,
        max_extension_days=cat.limits.max_extension_working_days,
        excerpt_chars=EXCERPT_CHARS * 2,
    )


# ---- bureau overview (总览) ----------------------------------------------------------------------


@router.get("/overview", response_class=HTMLResponse)
def overview_page(request: Request, user: StaffUser, db: DbSession) -> HTMLResponse:
    data = queue.overview(db, Actor.of(user))
    return staff_page(
        request,
        "staff_overview.html",
        user,
        data=data,
        tip_status=TIP_STATUS,
        assignment_status=ASSIGNMENT_STATUS,
        assignment_overdue=queue.assignment_overdue,
    )
