"""The migrations build exactly the schema the models declare, and go down and up again cleanly."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.exc import DBAPIError

from models import Base, migrate
from models.db import make_engine, make_sessionmaker, scratch_database
from models.tips import Reporter, telegram_user_key
from tests.conftest import pg_server_or_skip


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
    with scratch_database(pg_server_or_skip(), "hotline_migrations") as url:
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


def test_upgrading_removes_telegram_ids_from_earlier_audit_events(empty_url: str) -> None:
    migrate.upgrade(empty_url, "0008_triage_pending_index")
    engine = create_engine(empty_url)
    insert_event = text(
        "INSERT INTO audit_events (actor, action, public, detail, created_at) "
        "VALUES (:actor, 'rated', true, '{}', CURRENT_TIMESTAMP)"
    )
    try:
        with engine.begin() as conn:
            for actor in ("telegram:424242", "user:3 via telegram:-100123", "citizen"):
                conn.execute(insert_event, {"actor": actor})
        migrate.upgrade(empty_url)
        with engine.connect() as conn:
            actors = sorted(conn.execute(text("SELECT actor FROM audit_events")).scalars())
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text("UPDATE audit_events SET actor = 'x'"))  # and the trail is append-only again
    finally:
        engine.dispose()
    # A staff member's linked chat (user:…) is not a reporter's identity and stays.
    assert actors == ["citizen", "telegram", "user:3 via telegram:-100123"]


def test_upgrading_hides_reporters_telegram_ids_and_downgrading_restores_them(empty_url: str) -> None:
    migrate.upgrade(empty_url, "0010_tip_reopened_at")
    engine = create_engine(empty_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO reporters (anonymous, telegram_user_id, telegram_chat_id, created_at) "
                    "VALUES (false, 424242, 424242, CURRENT_TIMESTAMP), (true, NULL, NULL, CURRENT_TIMESTAMP)"
                )
            )
        migrate.upgrade(empty_url)
        with engine.connect() as conn:
            raw = conn.execute(
                text("SELECT telegram_user_key, telegram_chat FROM reporters ORDER BY id")
            ).all()
            columns = {c["name"] for c in inspect(conn).get_columns("reporters")}
        with make_sessionmaker(engine)() as session:
            found = session.scalars(
                select(Reporter).where(Reporter.telegram_user_key == telegram_user_key(424242))
            ).all()
            chats = [r.telegram_chat for r in found]
        migrate.downgrade(empty_url, "0010_tip_reopened_at")
        with engine.connect() as conn:
            restored = conn.execute(
                text("SELECT telegram_user_id, telegram_chat_id FROM reporters ORDER BY id")
            ).all()
    finally:
        engine.dispose()
    assert not {"telegram_user_id", "telegram_chat_id"} & columns
    assert "424242" not in "".join(raw[0]) and raw[1] == (None, None)
    assert chats == ["424242"]  # the bot still finds the reporter and can write to them
    assert [tuple(r) for r in restored] == [(424242, 424242), (None, None)]
