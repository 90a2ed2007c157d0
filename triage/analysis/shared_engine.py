"""The process-wide engine: built from the configured database on first use, rebuilt when the register
or the model file changes (checked at most every few seconds), so an import in one process reaches all.
The register's index is cached in the data directory (`index_cache`), so the next process starts faster."""

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from triage.analysis import index_cache
from triage.analysis.engine import TriageEngine, build_index, load_model_file
from triage.analysis.index import EnterpriseIndex
from triage.analysis.names import load_vocabulary
from triage.analysis.register_rows import load_register, register_fingerprint
from triage.analysis.result import Analysis, Hints

log = logging.getLogger(__name__)
CHECK_EVERY_SECONDS = 5.0
MODEL_FILE = "classifier.npz"
SHIPPED_MODEL = Path(__file__).resolve().parent.parent / "data" / MODEL_FILE


def resolve_model_path(data_dir: Path) -> Path | None:
    """The model trained here (data_dir/classifier.npz) if any, else the one shipped with the code."""
    for path in (data_dir / MODEL_FILE, SHIPPED_MODEL):
        if path.exists():
            return path
    return None


def register_index_key(session: Session, fingerprint: str | None = None) -> str:
    """The cache key of the register's index as it is now in this session's database. `fingerprint`: the
    register's `register_fingerprint`, when the caller has it."""
    database = session.get_bind().engine.url.render_as_string(hide_password=True)
    return index_cache.cache_key(fingerprint or register_fingerprint(session), database)


def register_index(session: Session, data_dir: Path, fingerprint: str | None = None) -> EnterpriseIndex:
    """The register's index: from the cache in data_dir when this state of the register was indexed before
    (by any process), else read, built and cached for the next process."""
    return index_cache.cached_index(
        data_dir,
        register_index_key(session, fingerprint),
        lambda: build_index(load_register(session), load_vocabulary()),
    )


@dataclass(frozen=True)
class _Built:
    engine: TriageEngine
    fingerprint: str
    model_stamp: tuple[str, float]


class RegisterFollower:
    """Keeps one TriageEngine in step with the register table and the model file."""

    def __init__(
        self, sessions: sessionmaker[Session], data_dir: Path, check_every: float = CHECK_EVERY_SECONDS
    ) -> None:
        self.sessions = sessions
        self.data_dir = data_dir
        self.check_every = check_every
        self._built: _Built | None = None
        self._checked_at = 0.0
        self._lock = threading.Lock()

    def _model_stamp(self) -> tuple[str, float]:
        path = resolve_model_path(self.data_dir)
        return (str(path), path.stat().st_mtime) if path else ("", 0.0)

    def engine(self) -> TriageEngine:
        now = time.monotonic()
        built = self._built
        if built is not None and now - self._checked_at < self.check_every:
            return built.engine
        with self._lock:
            if self._built is not None and time.monotonic() - self._checked_at < self.check_every:
                return self._built.engine
            with self.sessions() as session:
                fingerprint = register_fingerprint(session)
                stamp = self._model_stamp()
                if self._built is None or (fingerprint, stamp) != (
                    self._built.fingerprint,
                    self._built.model_stamp,
                ):
                    if self._built is not None and self._built.fingerprint == fingerprint:
                        index = self._built.engine.index  # only the model changed
                    else:
                        index = register_index(session, self.data_dir, fingerprint)
                    path = resolve_model_path(self.data_dir)
                    engine = TriageEngine.of_index(index, load_model_file(path))
                    log.info("triage engine built: %d enterprises, model %s", len(index), engine.model_name)
                    self._built = _Built(engine, fingerprint, stamp)
            self._checked_at = time.monotonic()
            return self._built.engine


_follower: RegisterFollower | None = None
_follower_lock = threading.Lock()


def configure(sessions: sessionmaker[Session], data_dir: Path) -> RegisterFollower:
    """Point the process-wide engine at a database (the app factory or CLI calls this once)."""
    global _follower
    with _follower_lock:
        _follower = RegisterFollower(sessions, data_dir)
        return _follower


def current_engine() -> TriageEngine:
    """The engine of this process; the wiring (app factory, CLI) must have called `configure` first."""
    if _follower is None:
        raise RuntimeError("triage engine not configured: call triage.analysis.configure(sessions, data_dir)")
    return _follower.engine()


def analyse(text: str, hints: Hints | None = None) -> Analysis:
    """Analyse one tip with the process-wide engine (pure: no database writes)."""
    return current_engine().analyse(text, hints)
