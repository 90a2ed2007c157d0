"""The scheduled jobs' work: the weekly digest, the overdue scan (督办) and sign-off reminders.

Exactly once across processes: each run first inserts its JobRun row (UNIQUE job, period_key) in the
transaction that does the work. A second process's insert fails on the unique key (on PostgreSQL it
waits for the first transaction and then fails; on SQLite writers are serialised by BEGIN IMMEDIATE), so
it rolls the savepoint back and skips. Functions add and flush; the caller owns the transaction.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from digest import archive
from digest.render import telegram_text
from digest.settings import DigestSettings
from digest.week import IsoWeek
from digest.weekly import generate
from models.digest import DigestArchive, JobRun
from models.tips import Tip
from models.workorders import Assignment, AssignmentStatus
from triage import audit, outbox
from triage.actors import SYSTEM
from triage.routing import Catalogue

log = logging.getLogger(__name__)

WEEKLY_DIGEST = "weekly_digest"
OVERDUE_SCAN = "overdue_scan"
SIGN_REMINDER = "sign_reminder"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
OPEN_FOR_ESCALATION = (AssignmentStatus.pending, AssignmentStatus.accepted)


def claim(session: Session, job: str, period_key: str, **detail: object) -> bool:
    """Record this run of `job` for `period_key`; False when some process already has it."""
    try:
        with session.begin_nested():
            session.add(JobRun(job=job, period_key=period_key, detail=detail))
            session.flush()
    except IntegrityError:
        return False
    return True


def already_ran(session: Session, job: str, period_key: str) -> bool:
    return (
        session.scalar(select(JobRun.id).where(JobRun.job == job, JobRun.period_key == period_key))
        is not None
    )


# ---- weekly digest -------------------------------------------------------------------------------


def due_digest_week(now: datetime, cfg: DigestSettings) -> IsoWeek:
    """The week whose digest is due at `now`: the week before the latest scheduled time at or before now."""
    tz = cfg.tz
    local = now.astimezone(tz)
    this_week = IsoWeek.containing(local.date())
    scheduled_day = this_week.monday + timedelta(days=WEEKDAYS.index(cfg.digest_day))
    scheduled = datetime.combine(scheduled_day, time(cfg.digest_hour, cfg.digest_minute), tz)
    if local < scheduled:
        scheduled -= timedelta(days=7)
    return IsoWeek.containing(scheduled.date()).previous()


def produce_weekly_digest(
    session: Session, week: IsoWeek, tz: ZoneInfo, cfg: DigestSettings, cat: Catalogue
) -> DigestArchive | None:
    """Generate, archive and queue a week's digest once; None when another run already produced it."""
    if not claim(session, WEEKLY_DIGEST, week.label):
        return None
    figures, files = generate(session, week, tz, cat)
    stored = archive.store(session, figures, files)
    payload: dict[str, Any] = {"week": week.label, "archive_id": stored.id, "headline": figures.headline()}
    if cfg.digest_telegram:
        outbox.enqueue(session, "weekly_digest", "bureau", "", text=telegram_text(figures), **payload)
    if cfg.email_enabled:
        outbox.enqueue(
            session, "weekly_digest", "bureau", "", channel="email", to=cfg.email_recipients, **payload
        )
    audit.record(session, SYSTEM, "digest_produced", week=week.label, archive_id=stored.id)
    return stored


# ---- overdue scan (督办) -------------------------------------------------------------------------


@dataclass(frozen=True)
class Escalation:
    assignment_id: int
    tip_id: int
    ticket: str
    department_code: str
    due_at: datetime
    days_overdue: float


def escalate_overdue(session: Session, now: datetime) -> list[Escalation]:
    """督办: mark each pending or accepted assignment past its due date once, tell its department and,
    in one summary, the dispatchers. Each assignment is its own savepoint: one failure is logged and
    the others go on."""
    candidates = session.execute(
        select(Assignment.id, Assignment.tip_id, Tip.ticket, Assignment.department_code, Assignment.due_at)
        .join(Tip, Tip.id == Assignment.tip_id)
        .where(
            Assignment.status.in_(OPEN_FOR_ESCALATION),
            Assignment.due_at < now,
            Assignment.escalated_at.is_(None),
        )
        .order_by(Assignment.due_at, Assignment.id)
    ).all()
    done: list[Escalation] = []
    for assignment_id, tip_id, ticket, department, due_at in candidates:
        try:
            with session.begin_nested():
                # A plain UPDATE, not the ORM's versioned one: 督办 must not make a department's open form stale.
                result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
                    update(Assignment)
                    .where(
                        Assignment.id == assignment_id,
                        Assignment.escalated_at.is_(None),
                        Assignment.status.in_(OPEN_FOR_ESCALATION),
                    )
                    .values(escalated_at=now)
                    .execution_options(synchronize_session=False)
                )
                if not result.rowcount:
                    continue
                days = round((now - due_at).total_seconds() / 86400.0, 1)
                item = Escalation(assignment_id, tip_id, ticket, department, due_at, days)
                audit.record(
                    session,
                    SYSTEM,
                    "escalated",
                    tip_id=tip_id,
                    assignment_id=assignment_id,
                    department=department,
                    due_at=due_at.isoformat(),
                    days_overdue=days,
                )
                outbox.enqueue(
                    session,
                    "assignment_overdue",
                    "department",
                    department,
                    ticket=ticket,
                    tip_id=tip_id,
                    assignment_id=assignment_id,
                    due_at=due_at.isoformat(),
                    days_overdue=days,
                )
                done.append(item)
        except Exception:
            log.exception("overdue scan: assignment %s failed; going on", assignment_id)
    if done:
        outbox.enqueue(
            session,
            "overdue_summary",
            "dispatchers",
            "",
            count=len(done),
            items=[
                {"ticket": e.ticket, "department": e.department_code, "days_overdue": e.days_overdue}
                for e in done
            ],
        )
    return done


def run_overdue_scan(session: Session, now: datetime, tz: ZoneInfo) -> list[Escalation] | None:
    """The hourly job: once per local hour; None when another process has this hour's run."""
    if not claim(session, OVERDUE_SCAN, now.astimezone(tz).strftime("%Y-%m-%dT%H")):
        return None
    return escalate_overdue(session, now)


# ---- sign-off reminders --------------------------------------------------------------------------


def remind_sign_off(session: Session, now: datetime, before: timedelta) -> list[int]:
    """Remind each department once per pending assignment whose sign-off falls due within `before`."""
    rows = session.execute(
        select(
            Assignment.id, Assignment.tip_id, Tip.ticket, Assignment.department_code, Assignment.sign_due_at
        )
        .join(Tip, Tip.id == Assignment.tip_id)
        .where(
            Assignment.status == AssignmentStatus.pending,
            Assignment.sign_due_at > now,
            Assignment.sign_due_at <= now + before,
        )
        .order_by(Assignment.sign_due_at, Assignment.id)
    ).all()
    reminded = []
    for assignment_id, tip_id, ticket, department, sign_due_at in rows:
        # The per-assignment run key makes the reminder once-only across runs and processes.
        if not claim(session, SIGN_REMINDER, f"assignment:{assignment_id}"):
            continue
        outbox.enqueue(
            session,
            "sign_reminder",
            "department",
            department,
            ticket=ticket,
            tip_id=tip_id,
            assignment_id=assignment_id,
            sign_due_at=sign_due_at.isoformat(),
        )
        reminded.append(assignment_id)
    return reminded


# ---- health ------------------------------------------------------------------------------------------


def scheduler_health(session: Session, now: datetime) -> dict[str, Any]:
    """Whether some scheduler is alive: the hourly overdue scan ran within the last two hours."""
    last = session.scalar(select(func.max(JobRun.ran_at)).where(JobRun.job == OVERDUE_SCAN))
    if last is None:
        return {"status": "never_ran", "last_overdue_scan": None}
    if last.tzinfo is None:  # SQLite aggregates lose the column type's zone handling
        last = last.replace(tzinfo=UTC)
    state = "ok" if now - last <= timedelta(hours=2) else "late"
    return {"status": state, "last_overdue_scan": last.isoformat()}
