"""Produce one week's digest: figures from the database, then every format (the CLI, the job and the bench)."""

from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from digest.figures import WeeklyDigest, weekly_digest
from digest.render import DigestFiles, build_files
from digest.week import IsoWeek
from triage.routing import Catalogue


def generate(
    session: Session, week: IsoWeek, tz: ZoneInfo, cat: Catalogue | None = None
) -> tuple[WeeklyDigest, DigestFiles]:
    figures = weekly_digest(session, week, tz, cat)
    return figures, build_files(figures)
