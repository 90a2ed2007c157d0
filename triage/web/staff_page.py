"""What every staff page route shares: the logged-in user, rendering with the notice, redirects with a notice."""

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from models.staff import User
from triage.web.deps import current_user
from triage.web.rendering import render

StaffUser = Annotated[User, Depends(current_user)]
FLASH_KEY = "flash"


def safe_local(target: str) -> str:
    """Only local paths: a link or form field must not bounce the user to another site."""
    return target if target.startswith("/") and not target.startswith(("//", "/\\")) else ""


def staff_page(
    request: Request, template: str, user: User | None, status_code: int = 200, **ctx: Any
) -> HTMLResponse:
    """Render a staff page; a notice left by the previous POST (flash) is shown once."""
    notice = request.session.pop(FLASH_KEY, None) if "session" in request.scope else None
    ctx.setdefault("notice", notice)
    return render(request, template, status_code=status_code, user=user, **ctx)


def done(request: Request, target: str, notice: str) -> RedirectResponse:
    """After a successful POST: back to the page (303, so a reload does not repeat the action) with a notice.

    The notice travels in the signed session, not the URL, so nobody can craft a link that shows a fake one.
    """
    request.session[FLASH_KEY] = notice
    return RedirectResponse(safe_local(target) or "/staff", status_code=303)
