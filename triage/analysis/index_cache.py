"""The register's index kept on disk (`data_dir/cache/`), so that a new process (each web worker, each
`hotline triage`) loads it instead of reading every row of the register and parsing every name again.

A cache file is named by a key of everything the index is built from: the register's fingerprint and the
database it was read from, the name vocabulary, the source of the modules that build it, and the Python and
pypinyin versions. A change to any of them is another key, so a stale index is never read; a file that
cannot be read is rebuilt, with a warning. The files are pickles, trusted as the SQLite database and the
model file beside them are: only the application writes its data directory.
"""

import gc
import hashlib
import logging
import pickle
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from importlib.metadata import version
from pathlib import Path

from triage.analysis import index, names, pinyin, places, register_rows, wordsearch
from triage.analysis.index import EnterpriseIndex

log = logging.getLogger(__name__)
CACHE_DIR = "cache"
PREFIX = "register-index-"
SUFFIX = ".pickle"
STALE_TMP_SECONDS = 3600
# The index is built from the rows (register_rows) by these modules, and from the vocabulary file.
_BUILT_BY = (index, names, pinyin, places, register_rows, wordsearch)


def cache_key(fingerprint: str, database: str) -> str:
    """The key of the index of one state of one register (`register_fingerprint`, the database's URL)."""
    digest = hashlib.sha256()
    sources = [Path(str(module.__file__)) for module in _BUILT_BY] + [names.NAMES_FILE]
    parts = [s.encode() for s in (fingerprint, database, sys.version, version("pypinyin"))]
    for part in parts + [path.read_bytes() for path in sources]:
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()[:32]


def cache_file(data_dir: Path, key: str) -> Path:
    return data_dir / CACHE_DIR / f"{PREFIX}{key}{SUFFIX}"


@contextmanager
def _no_collection() -> Iterator[None]:
    """Unpickling makes a few hundred thousand containers; the cyclic collector, run again and again among
    them, doubled the load's time (0.17 -> 0.3 s) and found nothing to free."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load(data_dir: Path, key: str) -> EnterpriseIndex | None:
    """The cached index of `key`, or None when there is none or it cannot be read."""
    path = cache_file(data_dir, key)
    try:
        with path.open("rb") as fh, _no_collection():
            loaded = pickle.load(fh)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except Exception as exc:  # a truncated or foreign file: any unpickling error
        log.warning("register index cache %s unreadable (%s); rebuilding it", path, exc)
        return None
    if not isinstance(loaded, EnterpriseIndex):
        log.warning("register index cache %s holds no index; rebuilding it", path)
        return None
    return loaded


def save(data_dir: Path, key: str, built: EnterpriseIndex) -> None:
    """Write the index of `key` (atomically: a reader never sees half a file; each process writes its own
    temporary file) and remove older ones. A directory that cannot be written costs only the next process's
    start-up: it is logged, not raised."""
    path = cache_file(data_dir, key)
    tmp: Path | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=PREFIX, suffix=".tmp", delete=False) as fh:
            tmp = Path(fh.name)
            pickle.dump(built, fh, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)
        _remove_all_but(path)
    except OSError as exc:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        log.warning("cannot write register index cache %s: %s", path, exc)


def _remove_all_but(path: Path) -> None:
    """Older indexes, and temporary files left by a process that died while writing (an hour old)."""
    for other in path.parent.glob(f"{PREFIX}*"):
        with suppress(FileNotFoundError):  # another process removed it first
            written = other.name.endswith(SUFFIX)
            if other != path and (written or other.stat().st_mtime < time.time() - STALE_TMP_SECONDS):
                other.unlink()


def cached_index(data_dir: Path, key: str, build: Callable[[], EnterpriseIndex]) -> EnterpriseIndex:
    """The index of `key` from the cache, else built by `build` and cached."""
    found = load(data_dir, key)
    if found is not None:
        return found
    built = build()
    save(data_dir, key, built)
    return built
