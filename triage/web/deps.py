"""Dependencies declared once and reused by every route: the database session, the acting user, CSRF."""

import hmac
import secrets
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Path, Request
from sqlalchemy.orm import Session, sessionmaker

from models.staff import User
from triage.accounts import user_for_token
from triage.actors import Actor
from triage.errors import Forbidden, Unauthenticated

SESSION_USER_KEY = "uid"
CSRF_KEY = "csrf"


def get_sessions(request: Request) -> sessionmaker[Session]:
    sessions: sessionmaker[Session] = request.app.state.sessions
    return sessions


def get_session(request: Request) -> Iterator[Session]:
    """A session for one request; writes open their own transaction with `with db.begin():`."""
    with get_sessions(request)() as session:
        yield session


async def app_state(request: Request) -> Any:
    """Async on purpose: a plain attribute read needs no trip through the thread pool."""
    return request.app.state


DbSession = Annotated[Session, Depends(get_session)]
# A row id in a path: positive and within the 32-bit integer columns, else 422 (never a database error).
RowId = Annotated[int, Path(ge=1, le=2_147_483_647)]
AppState = Annotated[Any, Depends(app_state)]


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def optional_user(request: Request, db: DbSession) -> User | None:
    """The user behind a bearer token (API) or the login cookie (pages), if any."""
    token = _bearer(request)
    if token:
        return user_for_token(db, token)
    uid = request.session.get(SESSION_USER_KEY) if "session" in request.scope else None
    if uid is None:
        return None
    user = db.get(User, uid)
    if user is None or not user.active:
        request.session.clear()
        return None
    return user


def current_user(user: Annotated[User | None, Depends(optional_user)]) -> User:
    if user is None:
        raise Unauthenticated("请先登录", "login_required")
    return user


def current_actor(user: Annotated[User, Depends(current_user)]) -> Actor:
    return Actor.of(user)


CurrentActor = Annotated[Actor, Depends(current_actor)]
OptionalUser = Annotated[User | None, Depends(optional_user)]


def csrf_token(request: Request) -> str:
    token = request.session.get(CSRF_KEY)
    if not token:
        token = secrets.token_urlsafe(32)
        request.session[CSRF_KEY] = token
    return str(token)


async def check_csrf(request: Request) -> None:
    """Every form POST of the staff pages carries the session's CSRF token (API calls use bearer tokens)."""
    if request.method in ("GET", "HEAD", "OPTIONS") or _bearer(request):
        return
    form = await request.form()
    sent = str(form.get("csrf_token") or request.headers.get("x-csrf-token") or "")
    expected = str(request.session.get(CSRF_KEY) or "")
    if not expected or not hmac.compare_digest(sent, expected):
        raise Forbidden("页面已过期或请求来源无效，请刷新页面后重试", "csrf_failed")


CsrfChecked = Depends(check_csrf)
