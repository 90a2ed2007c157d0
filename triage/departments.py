"""Keep the departments table in step with the routing catalogue (departments and county governments)."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.staff import Department
from triage.routing import Catalogue


def sync_departments(session: Session, cat: Catalogue) -> int:
    """Insert or rename the catalogue's departments; returns how many rows changed. Never deletes."""
    existing = {d.code: d for d in session.scalars(select(Department))}
    wanted: list[tuple[str, str, str, str | None]] = [
        (code, name, "hotline" if code == "hotline" else "department", None)
        for code, name in cat.departments.items()
    ]
    wanted += [(f"gov-{c}", cat.department_name(f"gov-{c}"), "county_gov", c) for c in cat.counties]
    changed = 0
    for code, name, kind, county in wanted:
        row = existing.get(code)
        if row is None:
            session.add(Department(code=code, name=name, kind=kind, county_code=county))
            changed += 1
        elif row.name != name:
            row.name = name
            changed += 1
    session.flush()
    return changed
