"""Readable ticket numbers (HY20261128-000123) and secret query codes (查询码)."""

import hashlib
import hmac
import secrets
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from models.tips import TicketCounter

# No 0/O, 1/I/L: a code read over the phone or copied from a screen is not mistyped.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 10  # 31^10 ≈ 8e14 codes


_NEXT_NUMBER_PG = (
    pg_insert(TicketCounter)
    .values(day=bindparam("day"), last=1)
    .on_conflict_do_update(index_elements=["day"], set_={"last": TicketCounter.last + 1})
    .returning(TicketCounter.last)
)


def next_ticket(session: Session, now: datetime, tz: ZoneInfo) -> str:
    """The next number of the local day; the counter row is upserted, so concurrent submits never collide."""
    day = now.astimezone(tz).strftime("%Y%m%d")
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        # One statement in autocommit on a connection of its own: the day's counter row is locked only
        # for that statement, not until the whole submission commits (a failed submission leaves a gap).
        with bind.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            last = conn.execute(_NEXT_NUMBER_PG, {"day": day}).scalar_one()
    else:
        # SQLite: the unit of work already holds the database's single write lock.
        lite = (
            sqlite_insert(TicketCounter)
            .values(day=day, last=1)
            .on_conflict_do_update(index_elements=["day"], set_={"last": TicketCounter.last + 1})
        )
        session.execute(lite)
        last = session.execute(select(TicketCounter.last).where(TicketCounter.day == day)).scalar_one()
    return f"HY{day}-{last:06d}"


def new_query_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def hash_query_code(code: str, secret_key: str) -> str:
    """Only a keyed hash is stored: a database copy does not reveal the codes."""
    normalised = code.strip().upper()
    return hmac.new(secret_key.encode(), normalised.encode(), hashlib.sha256).hexdigest()


def query_code_matches(code: str, stored_hash: str, secret_key: str) -> bool:
    return hmac.compare_digest(hash_query_code(code, secret_key), stored_hash)
