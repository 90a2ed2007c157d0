"""Open311 GeoReport v2 (/open311/v2): existing Open311 clients submit and track tips.

Services are the taxonomy's subtypes (`tech.ditiaogang`, …). Every call needs the `api_key` of an
integration account (`hotline users add NAME --role integration --token`). A client reads back only the
requests it submitted itself: tip texts can identify a reporter, so there is no public request listing.
"""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.ratelimit import SUBMIT, per_ip
from intake.service import TipSubmission, submit
from models.audit import AuditEvent
from models.staff import Role, User
from models.tips import Tip, TipStatus
from triage.accounts import user_for_token
from triage.actors import Actor
from triage.errors import Forbidden, HotlineError, NotFound, Unauthenticated, ValidationFailed
from triage.routing import Catalogue, catalogue
from triage.web.deps import AppState, DbSession


class Open311Error(BaseModel):
    code: int
    description: str
    error: str


router = APIRouter(
    prefix="/open311/v2",
    tags=["open311"],
    responses={status: {"model": list[Open311Error]} for status in (400, 401, 403, 404, 413, 422, 429, 503)},
)

CLOSED_STATES = (TipStatus.closed, TipStatus.invalid, TipStatus.merged, TipStatus.transferred)
MAX_RESULTS = 1000


def error_response(exc: HotlineError) -> JSONResponse:
    """GeoReport v2 errors are a list of {code, description}; `error` keeps our stable code."""
    return JSONResponse(
        [{"code": exc.status, "description": exc.message, "error": exc.code}], status_code=exc.status
    )


def _services(cat: Catalogue) -> list[dict[str, Any]]:
    return [
        {
            "service_code": f"{code}.{subtype}",
            "service_name": name,
            "description": f"{category.name}：{name}",
            "metadata": False,
            "type": "realtime",
            "keywords": f"{category.name},{name}",
            "group": category.name,
        }
        for code, category in cat.categories.items()
        for subtype, name in category.subtypes.items()
    ]


def _client(db: Session, api_key: str) -> User:
    if not api_key:
        raise Unauthenticated("缺少 api_key", "api_key_required")
    user = user_for_token(db, api_key)
    if user.role != Role.integration:
        raise Forbidden("此 api_key 不属于 Open311 接入系统", "not_an_integration")
    return user


def _submitted_by(client_id: int) -> Any:
    return select(AuditEvent.tip_id).where(
        AuditEvent.action == "received", AuditEvent.actor_user_id == client_id
    )


def _request_out(tip: Tip, cat: Catalogue) -> dict[str, Any]:
    code = f"{tip.category}.{tip.subtype}" if tip.category and tip.subtype else None
    service_name = (
        cat.categories[tip.category].subtypes.get(tip.subtype or "")
        if tip.category in cat.categories
        else None
    )
    lead = (tip.analysis or {}).get("lead_department")
    return {
        "service_request_id": tip.ticket,
        "status": "closed" if tip.status in CLOSED_STATES else "open",
        "status_notes": tip.result_summary or tip.status_reason,
        "service_name": service_name,
        "service_code": code,
        "description": tip.text,
        "agency_responsible": cat.department_name(lead) if lead else None,
        "service_notice": None,
        "requested_datetime": tip.received_at.isoformat(),
        "updated_datetime": (tip.closed_at or tip.dispatched_at or tip.received_at).isoformat(),
        "expected_datetime": tip.due_at.isoformat() if tip.due_at else None,
        "address": tip.place,
        "address_id": None,
        "zipcode": None,
        "lat": tip.latitude,
        "long": tip.longitude,
        "media_url": None,
    }


@router.get("/services.json")
def services(request: Request) -> list[dict[str, Any]]:
    return _services(catalogue(request.app.state.settings.routing_file))


@router.get("/services/{service_code}.json")
def service_definition(service_code: str, request: Request) -> dict[str, Any]:
    cat = catalogue(request.app.state.settings.routing_file)
    if service_code not in {s["service_code"] for s in _services(cat)}:
        raise NotFound("未知的服务代码", "unknown_service")
    return {"service_code": service_code, "attributes": []}


@router.post("/requests.json", status_code=201, dependencies=[Depends(per_ip(SUBMIT))])
def create_request(
    state: AppState,
    db: DbSession,
    api_key: Annotated[str, Form()] = "",
    service_code: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    address_string: Annotated[str, Form()] = "",
    lat: Annotated[float | None, Form()] = None,
    long: Annotated[float | None, Form()] = None,
    email: Annotated[str, Form()] = "",
    phone: Annotated[str, Form()] = "",
    first_name: Annotated[str, Form()] = "",
    last_name: Annotated[str, Form()] = "",
) -> list[dict[str, Any]]:
    client = _client(db, api_key)
    actor = Actor.of(client)
    db.close()  # the submit below opens its own write transaction
    cat = catalogue(state.settings.routing_file)
    if service_code and service_code not in {s["service_code"] for s in _services(cat)}:
        raise ValidationFailed("未知的服务代码", "unknown_service")
    if lat is None and long is None and not address_string:
        raise ValidationFailed("请提供位置：lat/long 或 address_string", "location_required")
    contact = phone or email
    name = f"{last_name}{first_name}".strip()
    receipt = submit(
        state.sessions,
        TipSubmission(
            text=description,
            channel="open311",
            place=address_string,
            latitude=lat,
            longitude=long,
            contact=contact,
            name=name,
            anonymous=not contact,
        ),
        state.intake_config,
        actor=actor,
        triage=state.triage,
    )
    return [
        {
            "service_request_id": receipt.ticket,
            "service_notice": "举报已受理，请保存查询码",
            "account_id": None,
            "query_code": receipt.query_code,
        }
    ]


@router.get("/requests.json")
def list_requests(
    request: Request,
    db: DbSession,
    api_key: str = "",
    service_request_id: str = "",
    service_code: str = "",
    status: str = "",
    start_date: datetime | None = None,
    end_date: datetime | None = None,
) -> list[dict[str, Any]]:
    client = _client(db, api_key)
    query = select(Tip).where(Tip.id.in_(_submitted_by(client.id)))
    if service_request_id:
        query = query.where(Tip.ticket.in_([t.strip() for t in service_request_id.split(",") if t.strip()]))
    if service_code:
        category, _, subtype = service_code.partition(".")
        query = query.where(Tip.category == category, Tip.subtype == subtype)
    if status == "open":
        query = query.where(Tip.status.not_in(CLOSED_STATES))
    elif status == "closed":
        query = query.where(Tip.status.in_(CLOSED_STATES))
    elif status:
        raise ValidationFailed("status 只能是 open 或 closed", "invalid_status")
    if start_date:
        query = query.where(Tip.received_at >= start_date)
    if end_date:
        query = query.where(Tip.received_at <= end_date)
    cat = catalogue(request.app.state.settings.routing_file)
    tips = db.scalars(query.order_by(Tip.received_at.desc()).limit(MAX_RESULTS))
    return [_request_out(tip, cat) for tip in tips]


@router.get("/requests/{ticket}.json")
def get_request(
    ticket: str, request: Request, db: DbSession, api_key: Annotated[str, Query()] = ""
) -> list[dict[str, Any]]:
    client = _client(db, api_key)
    tip = db.scalar(select(Tip).where(Tip.ticket == ticket, Tip.id.in_(_submitted_by(client.id))))
    if tip is None:
        raise NotFound("未找到该请求", "request_not_found")
    return [_request_out(tip, catalogue(request.app.state.settings.routing_file))]
