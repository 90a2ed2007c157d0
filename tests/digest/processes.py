"""What a second scheduler process does in the tests: run one job at a frozen time, report the result."""

from datetime import datetime
from multiprocessing.queues import Queue
from pathlib import Path
from typing import Any

import time_machine

from digest.scheduler import JobContext, overdue_scan_job, weekly_digest_job
from digest.settings import DigestSettings
from hotline.settings import Settings
from models.db import make_engine, make_sessionmaker

JOBS = {"weekly_digest": weekly_digest_job, "overdue_scan": overdue_scan_job}


def run_job_at(job: str, url: str, data_dir: str, when: str, results: "Queue[Any]") -> None:
    with time_machine.travel(datetime.fromisoformat(when), tick=False):
        settings = Settings(
            database_url=url, data_dir=Path(data_dir), demo=True, secret_key="test-secret-key"
        )
        engine = make_engine(url)
        ctx = JobContext(
            settings, DigestSettings(smtp_host="", digest_email_to=""), make_sessionmaker(engine)
        )
        try:
            results.put(JOBS[job](ctx))
        finally:
            engine.dispose()
