"""Plain factory functions: each adds what a test needs, valid by construction, and returns it."""

import csv
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from intake.service import IntakeConfig, Receipt, TipSubmission, submit
from models.db import unit_of_work
from models.staff import User
from triage.accounts import create_token, create_user
from triage.actors import Actor
from triage.register import COLUMNS, import_enterprises
from triage.uscc import check_char
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


def register_row(serial: int, name: str, county_code: str = "441625", county: str = "东源县",
                 town: str = "上莞镇") -> list[str]:  # fmt: skip
    """A row of the register's import file (enterprises.csv columns) with a valid USCC."""
    first17 = f"91{county_code}MA{serial:07d}X"[:17]
    row = {column: "" for column in COLUMNS}
    row.update(
        uscc=first17 + check_char(first17), name=name, county_code=county_code, county=county, town=town,
        industry="炼钢", reg_status="存续", founded="2010-01-01", reg_capital_wan="100", legal_rep="张三",
    )  # fmt: skip
    return [row[column] for column in COLUMNS]


def write_register(path: Path, *rows: list[str]) -> Path:
    """An import file (CSV in the columns of enterprises.csv) holding `rows`."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        writer.writerows(rows)
    return path


def import_register(sessions: sessionmaker[Session], path: Path, *rows: list[str]) -> None:
    """Write `rows` as an import file at `path` and import it, as `hotline enterprises import` does."""
    with unit_of_work(sessions) as session:
        report = import_enterprises(session, write_register(path, *rows))
    assert report.ok, report.errors
