"""The migrations build exactly the schema the models declare, and go down and up again cleanly."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from models import Base, migrate
from models.db import make_engine
from tests.conftest import fresh_pg_database, pg_server_or_skip


def test_the_migrated_schema_matches_the_models(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            differences = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        engine.dispose()
    assert differences == []


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database nothing has touched: a new SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    with fresh_pg_database(pg_server_or_skip(), "hotline_migrations") as url:
        yield url


def test_every_migration_goes_down_and_up_again(empty_url: str) -> None:
    migrate.upgrade(empty_url)
    migrate.downgrade(empty_url, "base")
    engine = create_engine(empty_url)
    try:
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()
    migrate.upgrade(empty_url)
    engine = create_engine(empty_url)
    try:
        tables = set(inspect(engine).get_table_names())
        indexes = {i["name"] for i in inspect(engine).get_indexes("tips")}
    finally:
        engine.dispose()
    assert set(Base.metadata.tables) <= tables
    assert {"ix_tips_queue_open", "ix_tips_triage_pending"} <= indexes
