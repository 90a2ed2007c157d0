"""Deadlines in Chinese working days (工作日), from the chinese-calendar package.

Statutory holidays and the weekend days worked in their place come from chinese_calendar; a year it
does not know falls back to Monday–Friday, with a warning logged once per year.
"""

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import chinese_calendar

from triage.routing import Catalogue, catalogue

log = logging.getLogger(__name__)
_warned_years: set[int] = set()


@lru_cache(maxsize=4096)
def is_working_day(day: date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        if day.year not in _warned_years:
            _warned_years.add(day.year)
            log.warning("chinese-calendar does not know %s; counting Monday-Friday as working days", day.year)
        return day.weekday() < 5


def add_working_days(start: date, days: int) -> date:
    """The date `days` working days after `start` (the start day itself is not counted)."""
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if is_working_day(current):
            remaining -= 1
    return current


def end_of_working_day(start: datetime, days: int, tz: ZoneInfo) -> datetime:
    """The end (23:59:59 local) of the `days`-th working day after `start`'s local date."""
    local_day = start.astimezone(tz).date()
    due_day = add_working_days(local_day, days)
    return datetime.combine(due_day, time(23, 59, 59), tzinfo=tz)


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise ValueError(day)  # unreachable: day 28 exists in every month


@dataclass(frozen=True)
class Deadlines:
    sign_due: datetime
    complete_due: datetime
    rectification_due: date | None


def deadlines_for(
    category: str,
    subtype: str | None,
    urgent: bool,
    received_at: datetime,
    dispatched_at: datetime,
    tz: ZoneInfo,
    cat: Catalogue | None = None,
    clock_from: datetime | None = None,
) -> Deadlines:
    """Sign-off and completion due dates of an assignment dispatched now for a tip received earlier.

    Completion counts from `clock_from` (a reopened tip's new round, `Tip.clock_started_at`), else from
    receipt; the enterprise's rectification window always counts from receipt.
    """
    cat = cat or catalogue()
    limits = cat.limits
    start = clock_from or received_at
    if urgent:
        sign_due = dispatched_at + timedelta(hours=limits.sign_hours_urgent)
        complete_due = max(start + timedelta(hours=limits.complete_hours_urgent), sign_due)
    else:
        sign_due = end_of_working_day(dispatched_at, limits.sign_working_days, tz)
        complete_due = max(end_of_working_day(start, limits.complete_working_days, tz), sign_due)
    rule = cat.rule_for(category, subtype)
    rectification = (
        add_months(received_at.astimezone(tz).date(), rule.rectification_months)
        if rule.rectification_months
        else None
    )
    return Deadlines(sign_due=sign_due, complete_due=complete_due, rectification_due=rectification)


def extended_due(due_at: datetime, days: int, tz: ZoneInfo) -> datetime:
    """A due date moved by an extension of `days` working days."""
    return end_of_working_day(due_at, days, tz)


def return_allowed_until(dispatched_at: datetime, tz: ZoneInfo, cat: Catalogue | None = None) -> datetime:
    cat = cat or catalogue()
    return end_of_working_day(dispatched_at, cat.limits.return_working_days, tz)


def is_overdue(due_at: datetime | None, now: datetime, done: bool = False) -> bool:
    """Overdue (超期) is derived, never stored: past due and not done."""
    return due_at is not None and not done and now > due_at


def provisional_due(received_at: datetime, tz: ZoneInfo, urgent: bool = False) -> datetime:
    """Until dispatch fixes the assignments' dates, the whole order is due by the completion limit
    counted from receipt (15 working days; urgent: 24 hours)."""
    return deadlines_for("other", None, urgent, received_at, received_at, tz).complete_due
