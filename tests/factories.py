"""Plain factory functions: each adds what a test needs, valid by construction, and returns it."""

from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from intake.service import IntakeConfig, Receipt, TipSubmission, submit
from models.staff import User
from triage.accounts import create_token, create_user
from triage.actors import Actor
from triage.workorders import DispatchOrder

PASSWORD = "correct-horse-battery"
TZ = ZoneInfo("Asia/Shanghai")
TIP_TEXT = "龙川县老隆镇有个无名厂房每天半夜开中频炉炼钢，黑烟很大，用电量惊人"


def make_user(session: Session, username: str, role: str, department: str | None = None) -> User:
    return create_user(session, username, PASSWORD, role, username, department)


def make_token(session: Session, user: User) -> str:
    return create_token(session, user, "test")


def intake_config(settings: Any) -> IntakeConfig:
    return settings.intake_config()  # type: ignore[no-any-return]


def make_tip(sessions: sessionmaker[Session], settings: Any, **overrides: Any) -> Receipt:
    fields: dict[str, Any] = {"text": TIP_TEXT, "channel": "web", "place": "龙川县老隆镇"}
    fields.update(overrides)
    return submit(sessions, TipSubmission(**fields), intake_config(settings))


def actor(user: User) -> Actor:
    return Actor.of(user)


def tech_order(**overrides: Any) -> DispatchOrder:
    fields: dict[str, Any] = {
        "category": "tech",
        "subtype": "ditiaogang",
        "lead": "miit",
        "co_handlers": ("gov-441622",),
        "county_code": "441622",
    }
    fields.update(overrides)
    return DispatchOrder(**fields)
