"""Staff pages (server-rendered, zh-CN): login, the dispatcher queue, tip detail, department inbox, overview."""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from models.db import unit_of_work
from triage.accounts import authenticate
from triage.errors import Unauthenticated
from triage.web.deps import SESSION_USER_KEY, AppState, OptionalUser, check_csrf
from triage.web.rendering import render

router = APIRouter(prefix="/staff", include_in_schema=False)

HOME_BY_ROLE = {"dispatcher": "/staff/queue", "department": "/staff/inbox", "bureau": "/staff/overview"}


def _safe_next(target: str) -> str:
    """Only local paths: a login link must not bounce the user to another site."""
    return target if target.startswith("/") and not target.startswith("//") else ""


@router.get("", response_class=HTMLResponse)
def staff_home(user: OptionalUser) -> Response:
    if user is None:
        return RedirectResponse("/staff/login", status_code=303)
    return RedirectResponse(HOME_BY_ROLE.get(user.role, "/staff/login"), status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "") -> HTMLResponse:
    return render(request, "login.html", next=_safe_next(next))


@router.post("/login", dependencies=[Depends(check_csrf)])
def login(
    request: Request,
    state: AppState,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "",
) -> Response:
    try:
        with unit_of_work(state.sessions) as db:
            user = authenticate(db, username, password)
            uid, role = user.id, user.role
    except Unauthenticated as exc:
        return render(request, "login.html", status_code=401, error=exc.message, next=_safe_next(next))
    request.session.clear()  # a fresh session (and CSRF token) at every login
    request.session[SESSION_USER_KEY] = uid
    return RedirectResponse(_safe_next(next) or HOME_BY_ROLE.get(role, "/staff"), status_code=303)


@router.post("/logout", dependencies=[Depends(check_csrf)])
def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/staff/login", status_code=303)
