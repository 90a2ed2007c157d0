"""The operator's form for 12345 phone calls (电话登记): staff only, channel `phone`, same submit() as every channel."""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse

from intake.service import TipSubmission, submit
from triage.actors import Actor, require_dispatcher
from triage.errors import HotlineError
from triage.web.deps import AppState, check_csrf
from triage.web.staff_page import StaffUser, staff_page

router = APIRouter(prefix="/staff", include_in_schema=False)


@router.get("/phone", response_class=HTMLResponse)
def phone_form(request: Request, user: StaffUser) -> HTMLResponse:
    require_dispatcher(Actor.of(user))
    return staff_page(request, "staff_phone.html", user, form={})


@router.post("/phone", response_class=HTMLResponse, dependencies=[Depends(check_csrf)])
def phone_submit(
    request: Request,
    user: StaffUser,
    state: AppState,
    text: Annotated[str, Form()] = "",
    place: Annotated[str, Form()] = "",
    enterprise_name: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    contact: Annotated[str, Form()] = "",
    anonymous: Annotated[str, Form()] = "",
) -> HTMLResponse:
    actor = Actor.of(user)
    require_dispatcher(actor)
    form = {
        "text": text,
        "place": place,
        "enterprise_name": enterprise_name,
        "name": name,
        "contact": contact,
    }
    form["anonymous"] = anonymous
    try:
        receipt = submit(
            state.sessions,
            TipSubmission(
                text=text,
                channel="phone",
                place=place,
                enterprise_name=enterprise_name,
                name=name,
                contact=contact,
                anonymous=anonymous == "1",
            ),
            state.intake_config,
            actor=actor,
            triage=state.triage,
        )
    except HotlineError as exc:
        # Keep what the operator typed while the caller is still on the line.
        return staff_page(
            request, "staff_phone.html", user, status_code=exc.status, form=form, error=exc.message
        )
    return staff_page(request, "staff_phone_receipt.html", user, status_code=201, receipt=receipt)
