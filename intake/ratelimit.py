"""Rate limits per client (IP address or Telegram user), counted in the database so that every worker
process shares them. Fixed windows: simple, and exact enough to stop floods and code guessing."""

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from models.base import utcnow
from models.crypto import keyed_hash
from models.db import unit_of_work
from models.ratelimit import RateCounter
from triage.errors import RateLimited


@dataclass(frozen=True)
class Limit:
    name: str
    count: int
    window_seconds: int
    message: str


SUBMIT = Limit("submit", 20, 3600, "提交过于频繁，请一小时后再试。紧急情况请直接拨打12345或110")
STATUS_QUERY = Limit("status", 60, 3600, "查询过于频繁，请稍后再试")
TELEGRAM_SUBMIT = Limit("tg-submit", 10, 3600, "您提交得太频繁了，请一小时后再试")


def client_key(limit: Limit, client: str, secret_key: str) -> str:
    """What the counter row stores: a keyed hash, never the address or the Telegram user id itself
    (a copy of the database must not tell who submitted when)."""
    return f"{limit.name}:{keyed_hash(client, secret_key)[:40]}"


def hit(session: Session, limit: Limit, client: str, secret_key: str, now: datetime | None = None) -> int:
    """Count one use by `client`; raise RateLimited past the limit. Returns the count in this window."""
    ts = int((now or utcnow()).timestamp())
    window = ts - ts % limit.window_seconds
    key = client_key(limit, client, secret_key)
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = (
        insert(RateCounter)
        .values(key=key, window_start=window, count=1)
        .on_conflict_do_update(index_elements=["key", "window_start"], set_={"count": RateCounter.count + 1})
        .returning(RateCounter.count)
    )
    count = int(session.execute(stmt).scalar_one())
    if random.random() < 0.01:  # now and then, forget windows older than a day
        session.execute(delete(RateCounter).where(RateCounter.window_start < ts - 86400))
    if count > limit.count:
        raise RateLimited(limit.message, f"rate_limited_{limit.name}")
    return count


def per_ip(limit: Limit) -> Callable[[Request], Awaitable[None]]:
    """A FastAPI dependency counting one use per client address (behind a proxy: the forwarded one)."""

    def count(sessions: sessionmaker[Session], client: str, secret_key: str) -> None:
        with unit_of_work(sessions) as session:
            hit(session, limit, client, secret_key)

    async def dependency(request: Request) -> None:
        if not request.app.state.settings.rate_limits:
            return
        client = request.client.host if request.client else "unknown"
        await run_in_threadpool(
            count, request.app.state.sessions, client, request.app.state.settings.secret_key
        )

    return dependency
