"""Working-day deadlines (工作日) from chinese-calendar, and the routing catalogue."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from triage.deadlines import (
    add_months,
    add_working_days,
    deadlines_for,
    extended_due,
    is_overdue,
    is_working_day,
)
from triage.routing import CatalogueError, load_catalogue, route

TZ = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (date(2026, 11, 27), 1, date(2026, 11, 30)),  # Friday + 1 -> Monday
        (date(2026, 9, 30), 1, date(2026, 10, 8)),  # National Day week is skipped
        (date(2026, 9, 28), 15, date(2026, 10, 23)),
        (date(2026, 2, 13), 1, date(2026, 2, 14)),  # Saturday 2026-02-14 is a worked day (调休)
        (date(2026, 12, 30), 1, date(2026, 12, 31)),
    ],
    ids=["weekend", "national-day", "fifteen-days", "adjusted-saturday", "plain-weekday"],
)
def test_working_days_follow_the_chinese_calendar(start, days, expected):  # type: ignore[no-untyped-def]
    assert add_working_days(start, days) == expected


def test_a_year_the_calendar_does_not_know_falls_back_to_monday_to_friday(caplog):  # type: ignore[no-untyped-def]
    assert is_working_day(date(2099, 1, 2)) is True  # a Friday
    assert is_working_day(date(2099, 1, 3)) is False  # a Saturday
    assert "does not know 2099" in caplog.text


def test_urgent_tips_get_hours_not_days():  # type: ignore[no-untyped-def]
    received = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
    normal = deadlines_for("safety", "hazard", False, received, received, TZ)
    urgent = deadlines_for("safety", "hazard", True, received, received, TZ)
    assert (urgent.sign_due - received).total_seconds() == 2 * 3600
    assert (urgent.complete_due - received).total_seconds() == 24 * 3600
    assert normal.sign_due == datetime(2026, 11, 30, 23, 59, 59, tzinfo=TZ)
    assert normal.complete_due.date() == date(2026, 12, 18)


def test_energy_cases_carry_the_six_month_rectification_window():  # type: ignore[no-untyped-def]
    received = datetime(2026, 8, 31, 2, 0, tzinfo=UTC)
    assert deadlines_for("energy", "energy_overuse", False, received, received, TZ).rectification_due == date(
        2027, 2, 28
    )
    assert deadlines_for("env", "emission", False, received, received, TZ).rectification_due is None
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)


def test_an_extension_moves_the_due_date_by_working_days():  # type: ignore[no-untyped-def]
    due = datetime(2026, 9, 30, 23, 59, 59, tzinfo=TZ)
    assert extended_due(due, 1, TZ).date() == date(2026, 10, 8)


def test_overdue_is_derived():  # type: ignore[no-untyped-def]
    due = datetime(2026, 1, 1, tzinfo=UTC)
    assert is_overdue(due, datetime(2026, 1, 2, tzinfo=UTC))
    assert not is_overdue(due, datetime(2026, 1, 2, tzinfo=UTC), done=True)
    assert not is_overdue(None, datetime(2026, 1, 2, tzinfo=UTC))


@pytest.mark.parametrize(
    ("category", "subtype", "county", "lead", "co"),
    [
        ("env", "emission", "441622", "eeb", ["gov-441622"]),
        ("energy", "energy_overuse", "441625", "drc", ["miit", "gov-441625"]),
        ("tech", "ditiaogang", None, "miit", ["drc", "amr", "eeb", "nrb", "emb"]),
        ("quality", "unlicensed", "441602", "amr", ["gov-441602"]),
        ("safety", "hazchem", "441621", "emb", ["gov-441621"]),
        ("other", "other", "441621", "hotline", []),
    ],
    ids=["env", "energy", "tech-no-county", "quality", "safety", "other"],
)
def test_routing_follows_the_taxonomy(category, subtype, county, lead, co):  # type: ignore[no-untyped-def]
    result = route(category, subtype, county)
    assert (result.lead, result.co_handlers) == (lead, co)


def test_a_broken_routing_file_is_refused_with_a_clear_error(tmp_path: Path):  # type: ignore[no-untyped-def]
    good = (Path(__file__).parents[1] / "triage" / "rules" / "routing.toml").read_text(encoding="utf-8")
    broken = tmp_path / "routing.toml"
    broken.write_text(good.replace('lead = "eeb"', 'lead = "nobody"'), encoding="utf-8")
    with pytest.raises(CatalogueError, match="unknown department 'nobody'"):
        load_catalogue(broken)


@pytest.mark.parametrize(
    ("status", "sign_late", "due_late", "overdue"),
    [
        ("pending", True, False, True),
        ("pending", False, True, True),
        ("pending", False, False, False),
        ("accepted", True, False, False),  # signed: the sign-off limit no longer counts
        ("accepted", False, True, True),
        ("replied", False, True, False),  # answered in time or not, it is no longer the department's to do
        ("returned", True, True, False),
    ],
    ids=[
        "unsigned-late",
        "unsigned-past-due",
        "unsigned-in-time",
        "signed-late",
        "working-past-due",
        "replied",
        "returned",
    ],
)
def test_an_assignment_is_overdue_only_while_it_is_still_to_do(status, sign_late, due_late, overdue):  # type: ignore[no-untyped-def]
    from models.workorders import Assignment
    from triage.queue import assignment_overdue

    now = datetime(2026, 11, 30, 12, tzinfo=UTC)
    hour = timedelta(hours=1)
    a = Assignment(
        status=status,
        sign_due_at=now - hour if sign_late else now + hour,
        due_at=now - hour if due_late else now + hour,
    )
    assert assignment_overdue(a, now) is overdue
