"""Staff page for a department's Telegram link: make a one-time code, see or remove the linked chat."""

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from bot.links import create_link_code, link_info, unlink
from models.db import unit_of_work
from triage.errors import Forbidden
from triage.web.deps import AppState, CurrentActor, DbSession, check_csrf
from triage.web.rendering import render

router = APIRouter(include_in_schema=False)


def _department_only(actor: CurrentActor) -> str:
    if not (actor.is_department and actor.department_code):
        raise Forbidden("只有承办单位用户可以绑定 Telegram 群", "department_only")
    return actor.department_code


@router.get("/staff/telegram", response_class=HTMLResponse)
def telegram_link_page(request: Request, actor: CurrentActor, db: DbSession, state: AppState) -> HTMLResponse:
    department = _department_only(actor)
    return render(
        request,
        "telegram_link.html",
        user=actor,
        link=link_info(db, department),
        code=None,
        bot_on=bool(state.settings.telegram_token),
    )


@router.post("/staff/telegram", response_class=HTMLResponse, dependencies=[Depends(check_csrf)])
async def telegram_link_action(request: Request, actor: CurrentActor, state: AppState) -> HTMLResponse:
    department = _department_only(actor)
    form = await request.form()
    with unit_of_work(state.sessions) as session:
        code = None
        if form.get("action") == "unlink":
            unlink(session, actor)
        else:
            code = create_link_code(session, actor)
        link = link_info(session, department)
    return render(
        request,
        "telegram_link.html",
        user=actor,
        link=link,
        code=code,
        bot_on=bool(state.settings.telegram_token),
    )
