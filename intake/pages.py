"""Public pages (zh-CN, usable on a phone): the tip form, the receipt, the status query and the rating."""

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse

from intake.ratelimit import STATUS_QUERY, SUBMIT, per_ip
from intake.service import TipSubmission, citizen_status, find_tip_for_citizen, submit
from models.db import unit_of_work
from triage.actors import CITIZEN
from triage.errors import HotlineError, PayloadTooLarge
from triage.web.deps import AppState, DbSession
from triage.web.rendering import render
from triage.workorders import record_satisfaction

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse, name="tip_form")
def tip_form(request: Request) -> HTMLResponse:
    return render(request, "tip_form.html", form={})


async def read_photos(photos: list[UploadFile], max_bytes: int) -> list[bytes]:
    """Read uploads without holding more than one oversized file's limit in memory."""
    data: list[bytes] = []
    for upload in photos:
        if not upload.filename and not upload.size:
            continue  # the empty file input of a form
        raw = await upload.read(max_bytes + 1)
        if len(raw) > max_bytes:
            raise PayloadTooLarge(f"每张照片不能超过{max_bytes // (1024 * 1024)}MB", "photo_too_large")
        data.append(raw)
    return data


@router.post("/tips", response_class=HTMLResponse, dependencies=[Depends(per_ip(SUBMIT))])
async def submit_tip(
    request: Request,
    state: AppState,
    text: Annotated[str, Form()] = "",
    place: Annotated[str, Form()] = "",
    enterprise_name: Annotated[str, Form()] = "",
    contact: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    anonymous: Annotated[str, Form()] = "",
    photos: Annotated[list[UploadFile], File()] = [],  # noqa: B006 - FastAPI form default
) -> HTMLResponse:
    form = {
        "text": text,
        "place": place,
        "enterprise_name": enterprise_name,
        "contact": contact,
        "name": name,
        "anonymous": anonymous,
    }
    try:
        raw_photos = await read_photos(photos, state.settings.max_photo_bytes)
        receipt = submit(
            state.sessions,
            TipSubmission(
                text=text,
                channel="web",
                place=place,
                enterprise_name=enterprise_name,
                contact=contact,
                name=name,
                anonymous=anonymous == "1",
                photos=raw_photos,
            ),
            state.intake_config,
            triage=state.triage,
        )
    except HotlineError as exc:
        return render(request, "tip_form.html", status_code=exc.status, form=form, error=exc.message)
    return render(request, "receipt.html", status_code=201, receipt=receipt)


@router.get(
    "/status", response_class=HTMLResponse, name="status_page", dependencies=[Depends(per_ip(STATUS_QUERY))]
)
def status_page(
    request: Request, db: DbSession, state: AppState, ticket: str = "", code: str = ""
) -> HTMLResponse:
    if not ticket or not code:
        return render(request, "status.html", ticket=ticket, status=None)
    try:
        tip = find_tip_for_citizen(db, ticket, code, state.settings.secret_key)
    except HotlineError as exc:
        return render(
            request, "status.html", status_code=exc.status, ticket=ticket, error=exc.message, status=None
        )
    return render(request, "status.html", ticket=ticket, code=code, status=citizen_status(db, tip))


@router.post("/status/rating", response_class=HTMLResponse, dependencies=[Depends(per_ip(STATUS_QUERY))])
def rate(
    request: Request,
    state: AppState,
    ticket: Annotated[str, Form()],
    code: Annotated[str, Form()],
    satisfaction: Annotated[str, Form()],
) -> HTMLResponse:
    try:
        with unit_of_work(state.sessions) as db:
            tip = find_tip_for_citizen(db, ticket, code, state.settings.secret_key)
            record_satisfaction(db, CITIZEN, tip.id, satisfaction)
            db.flush()
            status = citizen_status(db, tip)
    except HotlineError as exc:
        return render(
            request, "status.html", status_code=exc.status, ticket=ticket, error=exc.message, status=None
        )
    return render(request, "status.html", ticket=ticket, code=code, status=status, notice="感谢您的评价！")
