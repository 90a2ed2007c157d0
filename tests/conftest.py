"""Fixtures: every database test runs on SQLite and on PostgreSQL, schema built by the real migrations.

- SQLite: the migrated database is built once per run and copied to a fresh file for each test.
- PostgreSQL (HOTLINE_TEST_POSTGRES_URL, required when CI=true): a fresh database per run, migrated once,
  tables truncated before each test.
- `server`: the real FastAPI app served by uvicorn on a free loopback port, for real HTTP.
"""

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from hotline.app import create_app
from hotline.settings import Settings
from models import Base, crypto, migrate
from models.db import make_engine, make_sessionmaker, scratch_database, unit_of_work
from tests.browsing import launch_browser
from triage.departments import sync_departments
from triage.routing import catalogue

PG_ENV = "HOTLINE_TEST_POSTGRES_URL"
TEST_KEYS = [crypto.new_key(), crypto.new_key()]
crypto.configure(TEST_KEYS)
crypto.configure_lookup_secret("test-secret-key")
BACKENDS = ["sqlite", "postgresql"]


def _pg_server_url() -> str | None:
    url = os.environ.get(PG_ENV)
    if not url and os.environ.get("CI") == "true":
        raise RuntimeError(f"{PG_ENV} must be set in CI: the suite runs on PostgreSQL too")
    return url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    migrate.upgrade(f"sqlite:///{path}")
    return path


def pg_server_or_skip() -> str:
    server = _pg_server_url()
    if not server:
        pytest.skip(f"{PG_ENV} not set: PostgreSQL tests skipped (they always run in CI)")
    return server


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    with scratch_database(pg_server_or_skip(), "hotline_test") as url:
        migrate.upgrade(url)
        yield url


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database (with the departments of the catalogue) for one test."""
    if request.param == "sqlite":
        path = tmp_path / "hotline.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("pg_database")
        engine = create_engine(url)
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        engine.dispose()
    engine = make_engine(url)
    with unit_of_work(make_sessionmaker(engine)) as session:
        sync_departments(session, catalogue())
    engine.dispose()
    yield url


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=db_url,
        demo=True,
        secret_key="test-secret-key",
        contact_keys=",".join(TEST_KEYS),
    )


@pytest.fixture
def sessions(settings: Settings) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(settings.database_url)
    yield make_sessionmaker(engine)
    engine.dispose()


@pytest.fixture
def db(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A session for arranging and checking; commit explicitly when a service in another session must see it."""
    with sessions() as session:
        yield session


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    app: Any

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30, follow_redirects=False)


def serve_app(app: Any) -> Iterator[LiveServer]:
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.02)
    yield LiveServer(url=f"http://127.0.0.1:{port}", app=app)
    server.should_exit = True
    thread.join(timeout=10)
    if getattr(app.state, "triage", None) is not None:
        app.state.triage.stop()
    app.state.engine.dispose()


@pytest.fixture
def analyser() -> Any:
    """No triage engine by default: tests of the work order choose categories by hand."""
    return None


@pytest.fixture
def server(settings: Settings, analyser: Any) -> Iterator[LiveServer]:
    yield from serve_app(create_app(settings, analyser=analyser))


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's headless Chromium through Playwright, one for the whole run (each person gets a context)."""
    yield from launch_browser()
