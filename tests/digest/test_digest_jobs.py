"""Scheduled work with a frozen clock: 督办 of overdue assignments, sign-off reminders, the weekly digest
produced exactly once across scheduler processes, and a missed Monday caught up once at start-up."""

import multiprocessing
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from digest import jobs
from digest.scheduler import (
    JobContext,
    overdue_scan_job,
    sign_reminder_job,
    start_scheduler,
    weekly_digest_job,
)
from digest.settings import DigestSettings
from hotline.settings import Settings
from models.audit import AuditEvent
from models.db import unit_of_work
from models.digest import DigestArchive, JobRun
from models.outbox import OutboxMessage
from models.workorders import Assignment
from tests.digest.processes import run_job_at
from tests.digest.seed import seed_week
from tests.factories import TZ, actor, make_tip, make_user, tech_order
from triage import workorders as wo

MONDAY_DISPATCH = datetime(2026, 11, 23, 10, 0, tzinfo=TZ)


@pytest.fixture
def ctx(settings: Settings, sessions: sessionmaker[Session]) -> JobContext:
    return JobContext(settings, DigestSettings(smtp_host="", digest_email_to=""), sessions)


@pytest.fixture
def dispatched(
    settings: Settings, sessions: sessionmaker[Session], db: Session
) -> Iterator[list[Assignment]]:
    """A tech tip dispatched on Monday 23 November 10:00 to miit (lead) and gov-441622."""
    dispatcher = make_user(db, "disp", "dispatcher")
    db.commit()
    with time_machine.travel(MONDAY_DISPATCH, tick=False):
        receipt = make_tip(sessions, settings)
        with unit_of_work(sessions) as session:
            created = wo.dispatch(session, actor(dispatcher), receipt.tip_id, tech_order(), TZ)
    yield created


def count(db: Session, model: type, *where: object) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(model).where(*where)) or 0  # type: ignore[arg-type]


def outbox_kinds(db: Session) -> list[tuple[str, str, str]]:
    db.expire_all()
    rows = db.execute(
        select(OutboxMessage.kind, OutboxMessage.recipient_kind, OutboxMessage.recipient_ref).order_by(
            OutboxMessage.id
        )
    )
    return [tuple(r) for r in rows]  # type: ignore[misc]


def test_overdue_assignments_are_escalated_once_and_department_and_dispatchers_are_told(
    ctx: JobContext, db: Session, dispatched: list[Assignment]
) -> None:
    due = dispatched[0].due_at
    with time_machine.travel(due - timedelta(minutes=1), tick=False):
        assert overdue_scan_job(ctx) == 0  # not yet overdue
    with time_machine.travel(due + timedelta(hours=1, minutes=5), tick=False):
        assert overdue_scan_job(ctx) == 2
        assert overdue_scan_job(ctx) is None  # the same hour again: another process already ran it
    with time_machine.travel(due + timedelta(hours=2, minutes=5), tick=False):
        assert overdue_scan_job(ctx) == 0  # next hour: already escalated, nobody is told twice

    db.expire_all()
    rows = db.scalars(select(Assignment).order_by(Assignment.id)).all()
    assert all(a.escalated_at is not None for a in rows)
    assert [a.version for a in rows] == [1, 1]  # a department's open form does not go stale
    assert count(db, AuditEvent, AuditEvent.action == "escalated") == 2
    kinds = [k for k in outbox_kinds(db) if k[0] in ("assignment_overdue", "overdue_summary")]
    assert kinds == [
        ("assignment_overdue", "department", "miit"),
        ("assignment_overdue", "department", "gov-441622"),
        ("overdue_summary", "dispatchers", ""),
    ]
    summary = db.scalars(select(OutboxMessage).where(OutboxMessage.kind == "overdue_summary")).one()
    assert summary.payload["count"] == 2
    assert {i["department"] for i in summary.payload["items"]} == {"miit", "gov-441622"}


def test_a_signed_off_or_replied_assignment_is_not_escalated(
    ctx: JobContext, db: Session, dispatched: list[Assignment]
) -> None:
    miit = make_user(db, "miit1", "department", "miit")
    db.commit()
    with unit_of_work(ctx.sessions) as session:
        wo.sign(session, actor(miit), dispatched[0].id)
        wo.reply(session, actor(miit), dispatched[0].id, "已查处，拆除中频炉2台")
    with time_machine.travel(dispatched[0].due_at + timedelta(hours=1), tick=False):
        assert overdue_scan_job(ctx) == 1
    assert [k[2] for k in outbox_kinds(db) if k[0] == "assignment_overdue"] == ["gov-441622"]


def test_departments_are_reminded_once_before_the_sign_off_deadline(
    ctx: JobContext, db: Session, dispatched: list[Assignment]
) -> None:
    sign_due = dispatched[0].sign_due_at
    with time_machine.travel(sign_due - timedelta(hours=2, minutes=1), tick=False):
        assert sign_reminder_job(ctx) == 0
    with time_machine.travel(sign_due - timedelta(hours=1, minutes=50), tick=False):
        assert sign_reminder_job(ctx) == 2
    with time_machine.travel(sign_due - timedelta(hours=1, minutes=35), tick=False):
        assert sign_reminder_job(ctx) == 0
    reminders = [k for k in outbox_kinds(db) if k[0] == "sign_reminder"]
    assert reminders == [
        ("sign_reminder", "department", "miit"),
        ("sign_reminder", "department", "gov-441622"),
    ]


def test_the_digest_is_due_for_the_week_before_the_latest_monday_nine_oclock() -> None:
    cfg = DigestSettings()
    assert str(jobs.due_digest_week(datetime(2026, 11, 30, 9, 0, tzinfo=TZ), cfg)) == "2026-W48"
    assert str(jobs.due_digest_week(datetime(2026, 11, 30, 8, 59, tzinfo=TZ), cfg)) == "2026-W47"
    assert str(jobs.due_digest_week(datetime(2026, 12, 1, 10, 0, tzinfo=TZ), cfg)) == "2026-W48"
    friday = DigestSettings(digest_day="fri", digest_hour=17)
    assert str(jobs.due_digest_week(datetime(2026, 12, 4, 17, 0, tzinfo=TZ), friday)) == "2026-W48"


def test_a_claim_held_by_one_process_makes_the_other_skip(sessions: sessionmaker[Session]) -> None:
    """The second insert waits for the first transaction (PostgreSQL row lock, SQLite write lock) and fails."""
    outcome: list[bool] = []
    with unit_of_work(sessions) as first:
        assert jobs.claim(first, "weekly_digest", "2026-W48")
        other = threading.Thread(target=lambda: outcome.append(_claim_in_new_session(sessions)))
        other.start()
    other.join(timeout=60)
    assert outcome == [False]


def _claim_in_new_session(sessions: sessionmaker[Session]) -> bool:
    with unit_of_work(sessions) as session:
        return jobs.claim(session, "weekly_digest", "2026-W48")


def test_two_scheduler_processes_produce_the_weekly_digest_once(
    db: Session, db_url: str, tmp_path: Path
) -> None:
    seed_week(db)
    db.commit()
    spawn = multiprocessing.get_context("spawn")
    results = spawn.Queue()
    monday = "2026-11-30T09:00:00+08:00"
    workers = [
        spawn.Process(target=run_job_at, args=("weekly_digest", db_url, str(tmp_path), monday, results))
        for _ in range(2)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    assert [w.exitcode for w in workers] == [0, 0]
    assert sorted([results.get(timeout=5), results.get(timeout=5)], key=str) == ["2026-W48", None]
    assert count(db, DigestArchive) == 1
    assert count(db, JobRun, JobRun.job == "weekly_digest") == 1
    assert [k for k in outbox_kinds(db) if k[0] == "weekly_digest"] == [("weekly_digest", "bureau", "")]
    message = db.scalars(select(OutboxMessage).where(OutboxMessage.kind == "weekly_digest")).one()
    assert message.payload["week"] == "2026-W48"
    assert "- 新增举报：5 件（较上周 +3）" in message.payload["text"]


def test_two_processes_run_the_hourly_overdue_scan_once(
    db: Session, db_url: str, tmp_path: Path, dispatched: list[Assignment]
) -> None:
    spawn = multiprocessing.get_context("spawn")
    results = spawn.Queue()
    when = (dispatched[0].due_at + timedelta(hours=1)).isoformat()
    workers = [
        spawn.Process(target=run_job_at, args=("overdue_scan", db_url, str(tmp_path), when, results))
        for _ in range(2)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    assert sorted([results.get(timeout=5), results.get(timeout=5)], key=str) == [2, None]
    assert count(db, AuditEvent, AuditEvent.action == "escalated") == 2


def test_a_missed_monday_is_caught_up_once_at_start_up(
    settings: Settings, ctx: JobContext, db: Session
) -> None:
    seed_week(db)
    db.commit()
    # Nothing ran on Monday 30 November at 09:00; the server comes back on Tuesday.
    with time_machine.travel(datetime(2026, 12, 1, 10, 0, tzinfo=TZ), tick=False):
        scheduler = start_scheduler(settings, ctx.cfg, paused=True)
        try:
            planned = {job.id: job for job in scheduler.get_jobs()}
            assert set(planned) == {
                "weekly_digest",
                "overdue_scan",
                "sign_reminder",
                "weekly_digest_catch_up",
            }
            assert planned["weekly_digest"].next_run_time == datetime(2026, 12, 7, 9, 0, tzinfo=TZ)
        finally:
            scheduler.shutdown(wait=False)
        # The catch-up run of this process and of a second process started at the same time.
        assert weekly_digest_job(ctx) == "2026-W48"
        assert weekly_digest_job(ctx) is None
    # Restarted again later that week: still nothing more.
    with time_machine.travel(datetime(2026, 12, 4, 8, 0, tzinfo=TZ), tick=False):
        assert weekly_digest_job(ctx) is None
    # The next Monday's cron run produces the next week, once.
    with time_machine.travel(datetime(2026, 12, 7, 9, 0, tzinfo=TZ), tick=False):
        assert weekly_digest_job(ctx) == "2026-W49"
        assert weekly_digest_job(ctx) is None
    db.expire_all()
    assert db.scalars(select(DigestArchive.week).order_by(DigestArchive.week)).all() == [
        "2026-W48",
        "2026-W49",
    ]
    assert count(db, OutboxMessage, OutboxMessage.kind == "weekly_digest") == 2
