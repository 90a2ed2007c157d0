"""ISO weeks ("2026-W48") and their bounds in the bureau's time zone."""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from triage.errors import ValidationFailed

WEEK_PATTERN = re.compile(r"^(\d{4})-W(\d{2})$")


@dataclass(frozen=True, order=True)
class IsoWeek:
    year: int
    week: int

    @classmethod
    def parse(cls, text: str) -> "IsoWeek":
        found = WEEK_PATTERN.match(text.strip())
        if not found:
            raise ValidationFailed("周次格式应为 2026-W48", "invalid_week")
        year, week = int(found.group(1)), int(found.group(2))
        try:
            date.fromisocalendar(year, week, 1)
        except ValueError:
            raise ValidationFailed(f"{year}年没有第{week}周", "invalid_week") from None
        return cls(year, week)

    @classmethod
    def containing(cls, day: date) -> "IsoWeek":
        iso = day.isocalendar()
        return cls(iso.year, iso.week)

    @classmethod
    def last_complete(cls, now: datetime, tz: ZoneInfo) -> "IsoWeek":
        """The latest week that has fully ended at `now` (local time): on a Monday, the week before."""
        return cls.containing(now.astimezone(tz).date()).previous()

    @property
    def label(self) -> str:
        return f"{self.year}-W{self.week:02d}"

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.week, 1)

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)

    def start(self, tz: ZoneInfo) -> datetime:
        """Monday 00:00 local, as a UTC datetime (the bound is inclusive)."""
        return datetime.combine(self.monday, time(0), tz).astimezone(UTC)

    def end(self, tz: ZoneInfo) -> datetime:
        """The next Monday 00:00 local, as a UTC datetime (the bound is exclusive)."""
        return self.next().start(tz)

    def previous(self) -> "IsoWeek":
        return IsoWeek.containing(self.monday - timedelta(days=7))

    def next(self) -> "IsoWeek":
        return IsoWeek.containing(self.monday + timedelta(days=7))

    def __str__(self) -> str:
        return self.label
