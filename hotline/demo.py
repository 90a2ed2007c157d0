"""Demo data for `make run`: departments, demo staff accounts, the demo register and a few tips."""

import gzip
import json
import shutil
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select

from hotline.settings import Settings
from intake.service import TipSubmission, submit
from models.db import make_engine, make_sessionmaker, unit_of_work
from models.register import Enterprise
from models.staff import User
from models.tips import Tip
from triage.accounts import create_user
from triage.departments import sync_departments
from triage.register import import_enterprises
from triage.routing import catalogue

DEMO_DIR = Path(__file__).parent / "demo_data"
DEMO_PASSWORD = "hotline-demo"


def demo_accounts(departments: list[str]) -> list[tuple[str, str, str | None, str]]:
    """(username, role, department, display name) of every demo account."""
    accounts: list[tuple[str, str, str | None, str]] = [
        ("dispatcher", "dispatcher", None, "派单员小王"),
        ("bureau", "bureau", None, "市工信局管理员"),
    ]
    accounts += [(f"dept-{code}", "department", code, f"{code} 承办人") for code in departments]
    return accounts


def load_demo(settings: Settings, console: Console, register: Path | None = None) -> None:
    if not settings.demo:
        raise SystemExit("demo data is only loaded in demo mode (HOTLINE_DEMO=true)")
    cat = catalogue(settings.routing_file)
    sessions = make_sessionmaker(make_engine(settings.database_url))
    with unit_of_work(sessions) as session:
        sync_departments(session, cat)
        existing = set(session.scalars(select(User.username)))
        for username, role, dept, name in demo_accounts(cat.all_department_codes()):
            if username not in existing:
                create_user(session, username, DEMO_PASSWORD, role, name, dept)
        has_register = (session.scalar(select(func.count()).select_from(Enterprise)) or 0) > 0
    if not has_register or register:
        _import_register(sessions, register or DEMO_DIR / "enterprises.csv.gz", console)
    with unit_of_work(sessions) as session:
        has_tips = (session.scalar(select(func.count()).select_from(Tip)) or 0) > 0
    if not has_tips:
        _submit_demo_tips(sessions, settings, console)
    table = Table(title=f"演示账号（密码均为 {DEMO_PASSWORD}）")
    table.add_column("用户名")
    table.add_column("角色")
    table.add_column("单位")
    for username, role, dept, _name in demo_accounts(cat.all_department_codes()):
        table.add_row(username, role, cat.department_name(dept) if dept else "")
    console.print(table)


def _import_register(sessions, path: Path, console: Console) -> None:  # type: ignore[no-untyped-def]
    if path.suffix == ".gz":
        with tempfile.TemporaryDirectory() as tmp:
            plain = Path(tmp) / path.stem
            with gzip.open(path, "rb") as src, plain.open("wb") as dst:
                shutil.copyfileobj(src, dst)
            _import_register(sessions, plain, console)
        return
    with unit_of_work(sessions) as session:
        report = import_enterprises(session, path)
    console.print(f"企业名录：{report}")


def _submit_demo_tips(sessions, settings: Settings, console: Console) -> None:  # type: ignore[no-untyped-def]
    from hotline.app import default_analyser
    from intake.auto_triage import inline_triage

    config = settings.intake_config()
    triage = inline_triage(sessions, default_analyser(sessions, settings.data_dir, warm=False), config.tz)
    lines = (DEMO_DIR / "demo_tips.jsonl").read_text(encoding="utf-8").splitlines()
    for line in lines:
        row = json.loads(line)
        submit(
            sessions,
            TipSubmission(text=row["text"], channel=row["channel"], place=row.get("place", "")),
            config,
            triage=triage,
        )
    console.print(f"演示举报：{len(lines)} 条")
