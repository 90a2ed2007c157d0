"""The process-wide engine follows the register, and the next process reads the register's index from the
cache in the data directory instead of parsing every name again (on SQLite and PostgreSQL)."""

import logging
import os
import time
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from hotline.cli import app
from hotline.settings import Settings
from tests.factories import import_register, register_row, write_register
from triage.analysis import RegisterRow, index_cache, shared_engine
from triage.analysis.engine import build_index
from triage.analysis.names import NAMES_FILE, load_vocabulary
from triage.analysis.shared_engine import RegisterFollower

TOWN, COUNTY, CODE = "上莞镇", "东源县", "441625"


def firm(serial: int, name: str) -> list[str]:
    return register_row(serial, name, CODE, COUNTY, TOWN)


def uscc_named(follower: RegisterFollower, text: str) -> str | None:
    found = follower.engine().analyse(text).enterprise
    return found.uscc if found else None


def cache_files(data_dir: Path) -> list[Path]:
    return sorted((data_dir / index_cache.CACHE_DIR).glob(f"{index_cache.PREFIX}*"))


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "var"


def test_the_next_process_reads_the_index_from_the_cache_and_an_import_reaches_both(
    sessions: sessionmaker[Session], data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hongda = firm(1, "东源县宏达钢铁有限公司")
    import_register(sessions, tmp_path / "a.csv", hongda, firm(2, "东源县兴峰铸造厂"))
    first = RegisterFollower(sessions, data_dir, check_every=0)
    assert uscc_named(first, "上莞镇宏达钢铁半夜开中频炉，烟很大") == hongda[0]
    [cached] = cache_files(data_dir)

    # A new process with the same register never reads its rows: the index comes from the cache.
    def no_reading(session: Session) -> list[object]:
        raise AssertionError("the register was read although its index was cached")

    monkeypatch.setattr(shared_engine, "load_register", no_reading)
    second = RegisterFollower(sessions, data_dir, check_every=0)
    assert uscc_named(second, "上莞镇宏达钢铁半夜开中频炉，烟很大") == hongda[0]
    assert uscc_named(second, "东源兴峰铸造厂在偷偷熔废钢") == firm(2, "")[0]
    monkeypatch.undo()

    # An import changes the register's fingerprint: both processes rebuild, and a new cache file
    # replaces the old one.
    jinlong = firm(3, "东源县金龙水泥有限公司")
    import_register(sessions, tmp_path / "b.csv", jinlong)
    for follower in (first, second):
        assert uscc_named(follower, "金龙水泥厂的窑夜里冒黑烟") == jinlong[0]
    assert [p.name for p in cache_files(data_dir)] != [cached.name]
    assert len(cache_files(data_dir)) == 1


def test_an_unreadable_cache_file_is_rebuilt_not_trusted(
    sessions: sessionmaker[Session], data_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    hongda = firm(1, "东源县宏达钢铁有限公司")
    import_register(sessions, tmp_path / "a.csv", hongda)
    RegisterFollower(sessions, data_dir).engine()
    [cached] = cache_files(data_dir)
    whole = cached.read_bytes()
    cached.write_bytes(whole[: len(whole) // 2])  # a write cut short
    with caplog.at_level(logging.WARNING, logger=index_cache.__name__):
        follower = RegisterFollower(sessions, data_dir)
        assert uscc_named(follower, "宏达钢铁在上莞镇偷偷生产") == hongda[0]
    assert "unreadable" in caplog.text
    assert cached.read_bytes() == whole  # written again, whole


def test_a_data_dir_that_cannot_be_written_costs_only_time(
    sessions: sessionmaker[Session], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    hongda = firm(1, "东源县宏达钢铁有限公司")
    import_register(sessions, tmp_path / "a.csv", hongda)
    data_dir = tmp_path / "var"
    data_dir.mkdir()
    (data_dir / index_cache.CACHE_DIR).write_text("a file where the cache directory should be")
    with caplog.at_level(logging.WARNING, logger=index_cache.__name__):
        assert uscc_named(RegisterFollower(sessions, data_dir), "宏达钢铁在上莞镇偷偷生产") == hongda[0]
    assert "cannot write register index cache" in caplog.text


def test_the_key_changes_with_everything_the_index_is_built_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = index_cache.cache_key("2:2026-11-30T08:00:00:2", "sqlite:///var/hotline.db")
    assert key == index_cache.cache_key("2:2026-11-30T08:00:00:2", "sqlite:///var/hotline.db")
    assert key != index_cache.cache_key("3:2026-11-30T08:00:00:3", "sqlite:///var/hotline.db")
    assert key != index_cache.cache_key("2:2026-11-30T08:00:00:2", "sqlite:///other/hotline.db")
    # Another name vocabulary (a city's own industry words) parses names differently.
    vocabulary = tmp_path / "names.toml"
    vocabulary.write_text(NAMES_FILE.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    monkeypatch.setattr(index_cache.names, "NAMES_FILE", vocabulary)
    assert key != index_cache.cache_key("2:2026-11-30T08:00:00:2", "sqlite:///var/hotline.db")


def test_older_indexes_and_abandoned_temporary_files_are_removed(data_dir: Path) -> None:
    index = build_index([RegisterRow("91441625MA00000019", "东源县宏达钢铁有限公司", CODE, COUNTY, TOWN)],
                        load_vocabulary())  # fmt: skip
    cache = data_dir / index_cache.CACHE_DIR
    cache.mkdir(parents=True)
    older = cache / f"{index_cache.PREFIX}0ld{index_cache.SUFFIX}"
    abandoned = cache / f"{index_cache.PREFIX}died.tmp"  # a process died while writing it
    writing = cache / f"{index_cache.PREFIX}busy.tmp"  # another process is writing it now
    for path in (older, abandoned, writing):
        path.write_bytes(b"x")
    hours_ago = time.time() - 2 * index_cache.STALE_TMP_SECONDS
    os.utime(abandoned, (hours_ago, hours_ago))
    index_cache.save(data_dir, "new", index)
    assert sorted(p.name for p in cache.iterdir()) == sorted(
        [writing.name, index_cache.cache_file(data_dir, "new").name]
    )
    loaded = index_cache.load(data_dir, "new")
    assert loaded is not None and loaded.by_trade == index.by_trade and loaded.rows == index.rows


def test_an_import_on_the_command_line_leaves_the_new_index_cached(
    settings: Settings, sessions: sessionmaker[Session], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hongda = firm(1, "东源县宏达钢铁有限公司")
    monkeypatch.setenv("HOTLINE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(settings.data_dir))

    result = CliRunner().invoke(
        app, ["enterprises", "import", str(write_register(tmp_path / "r.csv", hongda))]
    )

    assert result.exit_code == 0, result.output
    with sessions() as session:
        key = shared_engine.register_index_key(session)
    assert index_cache.cache_file(settings.data_dir, key).exists()
    monkeypatch.setattr(
        shared_engine, "load_register", lambda session: pytest.fail("the register was read again")
    )
    assert uscc_named(RegisterFollower(sessions, settings.data_dir), "宏达钢铁在上莞镇偷偷生产") == hongda[0]
