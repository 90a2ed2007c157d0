"""Engine and session factories. Nothing is built at import time."""

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

WRITE_OPTION = "hotline_write"


def make_engine(url: str, pool_size: int | None = None, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL mode, foreign keys and a busy timeout.

    `pool_size` (PostgreSQL) should cover the requests a process serves at once: past it, every request
    opens and closes a connection of its own (a new server process each time).
    """
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy, not pysqlite, open transactions, so BEGIN IMMEDIATE below works.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # A unit of work takes the write lock at BEGIN, so two writers queue (busy_timeout) instead
            # of one failing when it upgrades a read lock; plain reads stay deferred and never block.
            immediate = conn.get_execution_options().get(WRITE_OPTION)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    if pool_size is not None:
        kwargs.update(pool_size=pool_size, max_overflow=2 * pool_size)
    engine = create_engine(url, **kwargs)
    _ping_idle_connections(engine)
    return engine


PING_AFTER_IDLE = 1.0  # seconds
_IDLE_SINCE = "hotline_idle_since"


def _ping_idle_connections(engine: Engine) -> None:
    """Check a pooled connection that sat idle before handing it out (a database restart killed it).

    Like SQLAlchemy's `pool_pre_ping`, but a connection back in the pool for less than a second is not
    pinged: under load that is every checkout, and a ping is a full round trip. A connection in use when
    the server goes away fails its statement instead; SQLAlchemy then discards the whole pool.
    """

    @event.listens_for(engine, "connect")
    @event.listens_for(engine, "checkin")
    def _idle(_dbapi_conn: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        if time.monotonic() - record.info.get(_IDLE_SINCE, 0.0) < PING_AFTER_IDLE:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError("pooled connection is dead") from exc  # the pool reconnects


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One write transaction: commit on success, roll back on any error."""
    with factory() as session, session.begin():
        session.connection(execution_options={WRITE_OPTION: True})
        yield session


@contextmanager
def scratch_database(server_url: str, prefix: str) -> Iterator[str]:
    """A new, empty PostgreSQL database on the server of `server_url` (its URL is yielded), dropped
    afterwards whatever happens: for test runs and benchmarks."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(make_url(server_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
