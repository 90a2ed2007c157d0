"""APScheduler 3 wiring: the weekly digest, the hourly overdue scan, sign-off reminders and digest e-mail.

Run by `hotline serve` (start_scheduler) and alone by `hotline scheduler`. Every process may run it:
each job claims its run key in the database (digest/jobs.py), so a run happens once however many
schedulers are up. At start-up a digest missed while no scheduler was running is produced once.
"""

import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.orm import Session, sessionmaker

from digest import jobs
from digest.settings import DigestSettings
from hotline.settings import Settings
from models.base import utcnow
from models.db import make_engine, make_sessionmaker, unit_of_work
from triage.routing import catalogue

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobContext:
    """What every job needs; jobs get this and ids, never ORM objects."""

    settings: Settings
    cfg: DigestSettings
    sessions: sessionmaker[Session]


def weekly_digest_job(ctx: JobContext) -> str | None:
    """Produce the digest due now (the cron run and the start-up catch-up are the same call)."""
    week = jobs.due_digest_week(utcnow(), ctx.cfg)
    with unit_of_work(ctx.sessions) as session:
        stored = jobs.produce_weekly_digest(
            session, week, ctx.settings.tz, ctx.cfg, catalogue(ctx.settings.routing_file)
        )
        produced = stored.week if stored else None
    log.info("weekly digest %s: %s", week.label, "produced" if produced else "already produced")
    if produced and ctx.cfg.email_enabled:
        deliver_email_job(ctx)
    return produced


def overdue_scan_job(ctx: JobContext) -> int | None:
    with unit_of_work(ctx.sessions) as session:
        done = jobs.run_overdue_scan(session, utcnow(), ctx.cfg.tz)
    log.info(
        "overdue scan: %s", "skipped (another process ran it)" if done is None else f"{len(done)} escalated"
    )
    return None if done is None else len(done)


def sign_reminder_job(ctx: JobContext) -> int:
    with unit_of_work(ctx.sessions) as session:
        reminded = jobs.remind_sign_off(session, utcnow(), timedelta(hours=ctx.cfg.sign_reminder_hours))
    return len(reminded)


def deliver_email_job(ctx: JobContext) -> int:
    from digest.mail import deliver_pending

    return deliver_pending(ctx.sessions, ctx.cfg, utcnow())


def _guarded(job: Callable[[JobContext], Any], ctx: JobContext) -> Callable[[], None]:
    """A failing run is logged and the scheduler goes on; the next period tries again."""

    def run() -> None:
        try:
            job(ctx)
        except Exception:
            log.exception("scheduled job %s failed", job.__name__)

    run.__name__ = job.__name__
    return run


def build_scheduler(ctx: JobContext) -> BackgroundScheduler:
    cfg = ctx.cfg
    scheduler = BackgroundScheduler(
        timezone=cfg.tz,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
    )
    scheduler.add_job(
        _guarded(weekly_digest_job, ctx),
        CronTrigger(
            day_of_week=cfg.digest_day, hour=cfg.digest_hour, minute=cfg.digest_minute, timezone=cfg.tz
        ),
        id="weekly_digest",
        name="周报",
    )
    scheduler.add_job(
        _guarded(overdue_scan_job, ctx),
        CronTrigger(minute=cfg.overdue_scan_minute, timezone=cfg.tz),
        id="overdue_scan",
        name="超期督办",
    )
    scheduler.add_job(
        _guarded(sign_reminder_job, ctx),
        IntervalTrigger(minutes=cfg.sign_reminder_every_minutes, timezone=cfg.tz),
        id="sign_reminder",
        name="签收提醒",
    )
    if cfg.email_enabled:
        # Retries of digest e-mails that failed (the first try follows the digest at once).
        scheduler.add_job(
            _guarded(deliver_email_job, ctx),
            IntervalTrigger(minutes=5, timezone=cfg.tz),
            id="digest_email",
            name="周报邮件",
        )
    return scheduler


def start_scheduler(
    settings: Settings, cfg: DigestSettings | None = None, paused: bool = False
) -> BackgroundScheduler:
    """Start the jobs in a background thread; a missed digest is caught up by a one-off run right away."""
    ctx = JobContext(settings, cfg or DigestSettings(), make_sessionmaker(make_engine(settings.database_url)))
    scheduler = build_scheduler(ctx)
    scheduler.add_job(_guarded(weekly_digest_job, ctx), id="weekly_digest_catch_up", name="补发周报")
    scheduler.start(paused=paused)
    return scheduler


def scheduler_command() -> None:
    """Run the scheduled jobs alone (周报, 超期督办, 签收提醒) until stopped."""
    logging.basicConfig(level=logging.INFO)
    scheduler = start_scheduler(Settings())
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    log.info("scheduler running: %s", ", ".join(f"{j.name} ({j.trigger})" for j in scheduler.get_jobs()))
    stop.wait()
    scheduler.shutdown(wait=True)
