"""Backup and restore of the embedded SQLite default: the database (a consistent online copy) and photos."""

import sqlite3
import tarfile
import tempfile
from pathlib import Path

from sqlalchemy.engine import make_url

DB_MEMBER = "hotline.db"
ATTACHMENTS_MEMBER = "attachments"


class BackupError(Exception):
    pass


def sqlite_path(database_url: str) -> Path:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database:
        raise BackupError("backup/restore is for the SQLite default; use pg_dump/pg_restore for PostgreSQL")
    return Path(url.database)


def backup(database_url: str, attachments_dir: Path, out: Path) -> Path:
    """Write a .tar.gz with an online copy of the database (sqlite3 backup API) and the photos."""
    source_path = sqlite_path(database_url)
    if not source_path.exists():
        raise BackupError(f"no database at {source_path}")
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / DB_MEMBER
        with sqlite3.connect(source_path) as src, sqlite3.connect(copy) as dst:
            src.backup(dst)  # consistent even while the server writes
        out.parent.mkdir(parents=True, exist_ok=True)
        with tarfile.open(out, "w:gz") as tar:
            tar.add(copy, arcname=DB_MEMBER)
            if attachments_dir.exists():
                tar.add(attachments_dir, arcname=ATTACHMENTS_MEMBER)
    return out


def restore(archive: Path, database_url: str, attachments_dir: Path, force: bool = False) -> None:
    """Replace the database and photos with a backup's. Stop the server first."""
    target = sqlite_path(database_url)
    if target.exists() and not force:
        raise BackupError(f"{target} exists; pass --force to replace it")
    with tarfile.open(archive, "r:gz") as tar:
        names = tar.getnames()
        if DB_MEMBER not in names:
            raise BackupError("not a hotline backup (no hotline.db inside)")
        db_bytes = tar.extractfile(DB_MEMBER)
        assert db_bytes is not None
        target.parent.mkdir(parents=True, exist_ok=True)
        staged = target.with_name(f".{target.name}.restoring")
        staged.write_bytes(db_bytes.read())
        with sqlite3.connect(staged) as check:
            ok = check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        if not ok:
            staged.unlink()
            raise BackupError("the backup's database fails its integrity check")
        for suffix in ("-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        staged.replace(target)
        attachments_dir.mkdir(parents=True, exist_ok=True)
        for member in tar.getmembers():
            if member.name.startswith(f"{ATTACHMENTS_MEMBER}/") and member.isfile():
                name = Path(member.name).name
                extracted = tar.extractfile(member)
                assert extracted is not None
                (attachments_dir / name).write_bytes(extracted.read())
