"""Pages of scheduled work and reports: the digest archive for the bureau, the public 黄牌/红牌 lists,
and list-change proposals (a department proposes, the bureau decides)."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from digest import archive, exit_lists
from models.db import unit_of_work
from models.staff import User
from triage.actors import Actor
from triage.errors import ValidationFailed
from triage.web.deps import AppState, DbSession, RowId, check_csrf, current_user
from triage.web.rendering import render

router = APIRouter(include_in_schema=False)
StaffUser = Annotated[User, Depends(current_user)]
INLINE_TYPES = ("text/html", "image/png", "text/markdown")


@router.get("/staff/digests", response_class=HTMLResponse)
def digest_list(request: Request, db: DbSession, user: StaffUser) -> Response:
    archives = archive.list_archives(db, Actor.of(user))
    return render(request, "digest_list.html", archives=archives, user=user)


@router.get("/staff/digests/{week}/{name}")
def digest_file(week: str, name: str, db: DbSession, user: StaffUser) -> Response:
    """One archived file; HTML and charts open in the browser, the workbook downloads."""
    found = archive.get_file(db, Actor.of(user), week, name)
    inline = found.content_type.startswith(INLINE_TYPES)
    disposition = "inline" if inline else "attachment"
    headers = {"Content-Disposition": f'{disposition}; filename="{found.name}"'}
    if found.content_type.startswith("text/html"):
        # The archived HTML is ours, but it must not run anything or load from elsewhere.
        headers["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
    return Response(found.content, media_type=found.content_type, headers=headers)


@router.get("/staff/digests/{week}")
def digest_latest_html(week: str) -> Response:
    return RedirectResponse(f"/staff/digests/{week}/digest-{week}.html", status_code=303)


# ---- public 黄牌/红牌 lists ----------------------------------------------------------------------


@router.get("/lists", response_class=HTMLResponse)
def public_lists(request: Request, db: DbSession, county: str = "") -> Response:
    lists = exit_lists.public_lists(db, county_code=county or None)
    return render(request, "exit_lists.html", lists=lists, county=county)


# ---- list-change proposals (staff) ---------------------------------------------------------------


@router.get("/staff/lists/proposals", response_class=HTMLResponse)
def proposals(request: Request, db: DbSession, user: StaffUser) -> Response:
    rows = exit_lists.list_proposals(db, Actor.of(user))
    return render(request, "exit_list_proposals.html", proposals=rows, user=user)


@router.post("/staff/lists/proposals", dependencies=[Depends(check_csrf)])
def propose(
    state: AppState,
    user: StaffUser,
    uscc: Annotated[str, Form()],
    target_list: Annotated[str, Form()],
    reason: Annotated[str, Form()],
    rectify_by: Annotated[str, Form()] = "",
    assignment_id: Annotated[str, Form()] = "",
) -> Response:
    with unit_of_work(state.sessions) as session:
        exit_lists.propose(
            session,
            Actor.of(user),
            exit_lists.Proposal(
                uscc=uscc,
                target_list=target_list,
                reason=reason,
                rectify_by=_form_date(rectify_by),
                assignment_id=_form_int(assignment_id),
            ),
        )
    return RedirectResponse("/staff/lists/proposals", status_code=303)


@router.post("/staff/lists/proposals/{change_id}/decide", dependencies=[Depends(check_csrf)])
def decide(
    change_id: RowId,
    state: AppState,
    user: StaffUser,
    approve: Annotated[bool, Form()],
    note: Annotated[str, Form()] = "",
) -> Response:
    with unit_of_work(state.sessions) as session:
        exit_lists.decide(session, Actor.of(user), change_id, approve, note)
    return RedirectResponse("/staff/lists/proposals", status_code=303)


def _form_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip()) if text.strip() else None
    except ValueError:
        raise ValidationFailed("日期格式应为 2027-05-31", "invalid_date") from None


def _form_int(text: str) -> int | None:
    if not text.strip():
        return None
    if not text.strip().isdigit():
        raise ValidationFailed("交办单编号应为数字", "invalid_assignment_id")
    return int(text.strip())
