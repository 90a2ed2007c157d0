"""The digest archive: generated digests stored in the database, listed and served on the bureau pages."""

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from digest.figures import WeeklyDigest
from digest.render import DigestFiles
from models.base import utcnow
from models.digest import DigestArchive, DigestFile
from triage.actors import Actor
from triage.errors import Forbidden, NotFound


def store(session: Session, d: WeeklyDigest, files: DigestFiles) -> DigestArchive:
    """Archive a week's digest; a week stored again replaces its files (the figures may have been corrected)."""
    archive = session.scalar(select(DigestArchive).where(DigestArchive.week == d.week))
    if archive is None:
        archive = DigestArchive(week=d.week, week_start=d.week_start)
        session.add(archive)
    else:
        archive.files.clear()
        session.flush()  # the old files go before the new ones take their names
    archive.generated_at = utcnow()
    archive.headline = d.headline()
    archive.files.extend(DigestFile(name=n, content_type=t, content=c) for n, t, c in files.named())
    session.flush()
    return archive


def require_reader(actor: Actor) -> None:
    if not (actor.is_bureau or actor.is_dispatcher):
        raise Forbidden("只有市局和派单员可以查看周报", "bureau_only")


def list_archives(session: Session, actor: Actor) -> list[DigestArchive]:
    """Archived digests, newest week first (files are not loaded)."""
    require_reader(actor)
    return list(session.scalars(select(DigestArchive).order_by(DigestArchive.week.desc())))


def get_archive(session: Session, actor: Actor, week: str) -> DigestArchive:
    require_reader(actor)
    archive = session.scalar(
        select(DigestArchive).options(selectinload(DigestArchive.files)).where(DigestArchive.week == week)
    )
    if archive is None:
        raise NotFound("该周周报尚未生成", "digest_not_found")
    return archive


def get_file(session: Session, actor: Actor, week: str, name: str) -> DigestFile:
    require_reader(actor)
    found = session.scalar(
        select(DigestFile)
        .join(DigestArchive, DigestArchive.id == DigestFile.archive_id)
        .where(DigestArchive.week == week, DigestFile.name == name)
    )
    if found is None:
        raise NotFound("文件不存在", "digest_file_not_found")
    return found
