"""Pooled PostgreSQL connections: an idle one killed by the server is replaced unseen; a busy pool does not ping."""

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

import models.db
from models.db import make_engine


@pytest.fixture
def engine(pg_database: str) -> Iterator[Engine]:
    engine = make_engine(pg_database, pool_size=1)
    yield engine
    engine.dispose()


def _pings(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    pings: list[object] = []
    real = engine.dialect.do_ping

    def counted(dbapi_conn: Any) -> bool:
        pings.append(dbapi_conn)
        return real(dbapi_conn)

    monkeypatch.setattr(engine.dialect, "do_ping", counted)
    return pings


def test_a_connection_back_in_the_pool_a_moment_ago_is_not_pinged(engine, monkeypatch):  # type: ignore[no-untyped-def]
    pings = _pings(engine, monkeypatch)
    monkeypatch.setattr(models.db, "PING_AFTER_IDLE", 60.0)
    for _ in range(3):
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    assert pings == []
    monkeypatch.setattr(models.db, "PING_AFTER_IDLE", 0.0)
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    assert len(pings) == 1


def test_an_idle_connection_the_server_killed_is_replaced_before_use(engine, pg_database, monkeypatch):  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        killed = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    admin = create_engine(make_url(pg_database), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": killed}).scalar_one()
    finally:
        admin.dispose()
    monkeypatch.setattr(models.db, "PING_AFTER_IDLE", 0.0)  # it has been idle "long enough"
    with engine.connect() as conn:
        assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() != killed
