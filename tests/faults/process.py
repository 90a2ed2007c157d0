"""`hotline serve` as a real child process of a test, which the test may kill with SIGKILL and start again."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import httpx

from hotline.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
HOTLINE = [sys.executable, "-c", "from hotline.cli import app; app(prog_name='hotline')"]
START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class HotlineProcess:
    """One `hotline serve --no-scheduler` (1 worker unless told) on a fixed loopback port, per-IP limits off."""

    def __init__(self, settings: Settings, database_url: str | None = None, workers: int = 1) -> None:
        self.workers = workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "HOTLINE_DATABASE_URL": database_url or settings.database_url,
            "HOTLINE_DATA_DIR": str(settings.data_dir),
            "HOTLINE_SECRET_KEY": settings.secret_key,
            "HOTLINE_CONTACT_KEYS": settings.contact_keys,
            "HOTLINE_DEMO": "true",
            "HOTLINE_RATE_LIMITS": "false",
            "HOTLINE_TRIAGE_ORPHAN_SECONDS": "2",
        }
        self.log_path = settings.data_dir.parent / f"hotline-serve-{self.port}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def start(self) -> None:
        self._log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [*HOTLINE, "serve", "--workers", str(self.workers), "--no-scheduler", "--port", str(self.port)],
            cwd=ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.wait_ready()

    def wait_ready(self) -> None:
        """Poll until the server answers at all (any status: the database may be down on purpose)."""
        assert self.proc is not None
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"hotline serve exited with {self.proc.returncode}: {self.log_path.read_text()}"
                )
            try:
                httpx.get(self.url + "/favicon.ico", timeout=2)
                return
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError("hotline serve did not start in time")

    def wait_for_log(self, text: str, times: int = 1, timeout: float = START_TIMEOUT) -> None:
        """Wait until the server's log holds `text` at least `times` times (e.g. once per worker)."""
        deadline = time.monotonic() + timeout
        while self.log_path.read_text(errors="replace").count(text) < times:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{text!r} not logged {times} times: {self.log_path.read_text()}")
            time.sleep(0.05)

    def kill9(self) -> None:
        """SIGKILL the whole server (no shutdown handler runs, connections drop mid-request)."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self._close_log()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None
