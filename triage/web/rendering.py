"""Render Jinja2 pages with what every page needs: the user, the CSRF token, local times, labels."""

from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from triage import labels
from triage.routing import catalogue
from triage.web.deps import csrf_token


def local_time(value: datetime | None, request: Request, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    return value.astimezone(request.app.state.settings.tz).strftime(fmt)


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    templates = request.app.state.templates
    has_session = "session" in request.scope
    base = {
        "request": request,
        "csrf_token": csrf_token(request) if has_session else "",
        "labels": labels,
        "catalogue": catalogue(request.app.state.settings.routing_file),
        "fmt_time": lambda v, fmt="%Y-%m-%d %H:%M": local_time(v, request, fmt),
    }
    base.setdefault("user", None)
    base.update(context)
    return templates.TemplateResponse(request, template, base, status_code=status_code)
