"""The public JSON API (/api/v1/tips): submit a tip, read its status, rate it. Thin: it calls intake.service."""

from datetime import datetime
from functools import cache
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.applications import Starlette
from starlette.datastructures import URLPath

from intake.ratelimit import STATUS_QUERY, SUBMIT, per_ip
from intake.service import CitizenStatus, TipSubmission, citizen_status, find_tip_for_citizen, submit
from models.db import unit_of_work
from triage.actors import CITIZEN, Actor
from triage.errors import Forbidden, ValidationFailed
from triage.web.deps import AppState, DbSession, optional_user
from triage.workorders import record_satisfaction

router = APIRouter(prefix="/api/v1", tags=["citizens"])

PUBLIC_CHANNELS = {"web", "api"}
STAFF_CHANNELS = {"phone"}


class TipIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {"text": "龙川县某钢厂夜里偷偷开中频炉炼钢，黑烟很大", "channel": "api"}
        }
    )

    text: str = Field(description="问题描述（最多5000字）")
    channel: str = Field("api", description="web、api；phone 仅限工作人员令牌")
    place: str = ""
    enterprise_name: str = ""
    contact: str = ""
    name: str = ""
    anonymous: bool = True
    latitude: float | None = None
    longitude: float | None = None


class TipReceipt(BaseModel):
    ticket: str
    query_code: str = Field(description="查询码：只显示这一次，请妥善保存")
    status: str
    received_at: datetime
    status_url: str


class RatingIn(BaseModel):
    code: str
    satisfaction: str = Field(description="满意、基本满意 或 不满意")


class ErrorOut(BaseModel):
    error: str = Field(description="稳定的错误代码，供程序判断")
    message: str = Field(description="中文说明")


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut} for code in (400, 401, 404, 409, 413, 422, 429, 503)
}


@cache
def _status_path(app: Starlette) -> URLPath:
    """`request.url_for` searches every route on each call; the path of a named route never changes."""
    return app.url_path_for("status_page")


@router.post(
    "/tips",
    status_code=201,
    response_model=TipReceipt,
    responses=ERRORS,
    dependencies=[Depends(per_ip(SUBMIT))],
)
def create_tip(body: TipIn, state: AppState, request: Request) -> TipReceipt:
    actor: Actor = CITIZEN
    if body.channel in STAFF_CHANNELS:
        # Only the staff channel needs to know who calls: citizens' submissions never open a session here.
        with state.sessions() as db:
            user = optional_user(request, db)
        if user is None:
            raise Forbidden("电话登记需要工作人员令牌", "staff_channel")
        actor = Actor.of(user)
    elif body.channel not in PUBLIC_CHANNELS:
        raise ValidationFailed("channel 只能是 web、api 或 phone", "unknown_channel")
    receipt = submit(
        state.sessions,
        TipSubmission(**body.model_dump()),
        state.intake_config,
        actor=actor,
        triage=state.triage,
    )
    return TipReceipt(
        ticket=receipt.ticket,
        query_code=receipt.query_code,
        status=receipt.status,
        received_at=receipt.received_at,
        status_url=f"{_status_path(request.app).make_absolute_url(request.base_url)}?ticket={receipt.ticket}",
    )


@router.get(
    "/tips/{ticket}",
    response_model=CitizenStatus,
    responses=ERRORS,
    dependencies=[Depends(per_ip(STATUS_QUERY))],
)
def get_tip_status(
    ticket: str, db: DbSession, state: AppState, code: Annotated[str, Query()] = ""
) -> CitizenStatus:
    tip = find_tip_for_citizen(db, ticket, code, state.settings.secret_key)
    return citizen_status(db, tip)


@router.post(
    "/tips/{ticket}/rating",
    response_model=CitizenStatus,
    responses=ERRORS,
    dependencies=[Depends(per_ip(STATUS_QUERY))],
)
def rate_tip(ticket: str, body: RatingIn, state: AppState) -> CitizenStatus:
    with unit_of_work(state.sessions) as db:
        tip = find_tip_for_citizen(db, ticket, body.code, state.settings.secret_key)
        record_satisfaction(db, CITIZEN, tip.id, body.satisfaction)
        db.flush()
        return citizen_status(db, tip)
