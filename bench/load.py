"""Load test: `hotline serve --workers 4` on PostgreSQL with 1,000,000 stored tips, loopback only.

    .venv/bin/python -m bench.load [--tips 1000000] [--seconds 20] [--url postgresql+psycopg://...]

Creates a fresh database, migrates it with `hotline db upgrade`, generates the tips in SQL
(bench/load_data.py), starts the real server with per-IP rate limits off, creates a dispatcher with a
token and a cookie session, then runs bounded phases (count and time) with bench/load_client.py:

  bare       GET /favicon.ico     no database: the ceiling of this server on this machine
  health     GET /healthz         one database round trip
  submit     POST /api/v1/tips    closed loop: the highest sustained rate
  submit@R   POST /api/v1/tips    open loop at the target rate R (default 300/s): latency at that rate
  queue-api  GET /api/v1/staff/tips    the dispatcher queue as JSON (bearer token)
  queue-page GET /staff/queue     the dispatcher queue page (cookie session), pages 1-5

Targets: submit >= 300/s with p99 < 250 ms; queue page p99 < 300 ms. Everything is stopped and the
database dropped at the end, also on failure or Ctrl-C.
"""

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from bench.load_client import PhaseResult, RequestSpec, process_cpu, run_phase
from bench.load_data import fill, sample_texts
from models.db import scratch_database

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
ROOT = Path(__file__).resolve().parent.parent
HOTLINE = os.environ.get("HOTLINE_BIN") or str(Path(sys.executable).with_name("hotline"))
DISPATCHER_PASSWORD = "load-test-dispatcher"
SUBMIT_TARGET = (300.0, 0.250)  # rate per second, p99 seconds
QUEUE_TARGET_P99 = 0.300
TRIAGE_CATCH_UP_LIMIT = 120.0  # seconds


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_server(
    env: dict[str, str], port: int, workers: int, log_path: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """`hotline serve` in its own process group, stopped with SIGTERM (then SIGKILL) at the end."""
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [HOTLINE, "serve", "--workers", str(workers), "--no-scheduler", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield proc
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def wait_healthy(base: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"hotline serve exited with {proc.returncode}")
        try:
            if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError("hotline serve did not answer /healthz in time")


def create_dispatcher(env: dict[str, str]) -> str:
    """A dispatcher account with an API token, through the real CLI; returns the token."""
    out = subprocess.run(
        [HOTLINE, "users", "add", "load-dispatcher", "--role", "dispatcher", "--name", "压测派单员",
         "--password", DISPATCHER_PASSWORD, "--token"],
        env=env, cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    match = re.search(r"hl_[A-Za-z0-9_-]+", out)
    if not match:
        raise RuntimeError(f"no token in: {out}")
    return match.group(0)


def login_cookie(base: str) -> str:
    """Log in through the real login form (CSRF token included) and return the session cookie."""
    with httpx.Client(base_url=base, timeout=30) as client:
        form = client.get("/staff/login").text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
        if not csrf:
            raise RuntimeError("no CSRF token on the login page")
        answer = client.post(
            "/staff/login",
            data={
                "username": "load-dispatcher",
                "password": DISPATCHER_PASSWORD,
                "csrf_token": csrf.group(1),
            },
        )
        if answer.status_code != 303:
            raise RuntimeError(f"login failed: {answer.status_code}")
        return f"hotline_session={client.cookies['hotline_session']}"


def submission(texts: list[str]) -> Callable[[int], RequestSpec]:
    rng = random.Random(12345)

    def make(i: int) -> RequestSpec:
        body: dict[str, Any] = {"text": texts[i % len(texts)], "channel": "api"}
        if i % 3 == 0:
            body.update(place="龙川县老隆镇", enterprise_name="龙川县某钢铁厂")
        if i % 5 == 0:
            body.update(anonymous=False, name="张先生", contact=f"138{rng.randrange(10**8):08d}")
        return ("POST", "/api/v1/tips", {"json": body})

    return make


def report(result: PhaseResult, bare: PhaseResult | None, cores: int) -> dict[str, Any]:
    p50, p95, p99 = (result.percentile(q) * 1000 for q in (0.50, 0.95, 0.99))
    others = {k: v for k, v in result.statuses.items() if k >= 400}
    line = (
        f"{result.name:<12} {result.ok:>7,} ok {result.rate:8.1f}/s  p50 {p50:7.1f}  p95 {p95:7.1f}  "
        f"p99 {p99:7.1f} ms"
    )
    if bare is not None and bare.rate:
        line += f"  {result.rate / bare.rate:5.1%} of bare"
    line += (
        f"  | cpu: client {result.client_cpu / result.elapsed / cores:5.1%} server "
        f"{result.server_cpu / result.elapsed / cores:5.1%} postgres {result.database_cpu / result.elapsed / cores:5.1%} "
        f"machine {result.machine_busy:5.1%}; server {result.server_cpu / max(1, result.ok) * 1000:.1f} ms cpu/req"
    )
    if others or result.errors:
        line += f"  errors {dict(others)} {dict(result.errors)}"
    print(line, flush=True)
    return {
        "name": result.name,
        "ok": result.ok,
        "rate": round(result.rate, 1),
        "p50_ms": round(p50, 1),
        "p95_ms": round(p95, 1),
        "p99_ms": round(p99, 1),
        "of_bare": round(result.rate / bare.rate, 3) if bare and bare.rate else None,
        "client_cpu_share": round(result.client_cpu / result.elapsed / cores, 3),
        "server_cpu_share": round(result.server_cpu / result.elapsed / cores, 3),
        "postgres_cpu_share": round(result.database_cpu / result.elapsed / cores, 3),
        "server_cpu_ms_per_request": round(result.server_cpu / max(1, result.ok) * 1000, 2),
        "machine_busy": round(result.machine_busy, 3),
        "failed": {str(k): v for k, v in others.items()} | dict(result.errors),
    }


def machine() -> str:
    model = "?"
    with open("/proc/cpuinfo") as fh:
        for line in fh:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as fh:
        mem_kb = int(fh.readline().split()[1])
    pg = subprocess.run(["psql", "--version"], capture_output=True, text=True).stdout.strip()
    return f"{os.cpu_count()} cores ({model}), {mem_kb / 1024**2:.0f} GiB RAM, Python {sys.version.split()[0]}, {pg}"


async def phases(
    args: argparse.Namespace,
    base: str,
    token: str,
    cookie: str,
    pid: int,
    texts: list[str],
    database_url: str,
) -> list[dict[str, Any]]:
    cores = os.cpu_count() or 1
    seconds, conns = args.seconds, args.connections
    bearer = {"headers": {"Authorization": f"Bearer {token}"}}
    page_headers = {"headers": {"Cookie": cookie}}
    submit = submission(texts)

    # Warm-up, not reported: every worker builds its triage index and connection pool.
    await run_phase("warm-up", base, submit, connections=conns, max_requests=400, max_seconds=60)
    await run_phase("warm-up", base, lambda i: ("GET", f"/staff/queue?page={1 + i % 5}", page_headers),
                    connections=conns, max_requests=100, max_seconds=30)  # fmt: skip

    figures = []
    common: dict[str, Any] = {"max_seconds": seconds, "server_pid": pid}
    bare = await run_phase("bare", base, lambda i: ("GET", "/favicon.ico", {}),
                           connections=conns, max_requests=args.requests * 4, **common)  # fmt: skip
    figures.append(report(bare, None, cores))
    runs: list[tuple[str, Callable[[int], RequestSpec], dict[str, Any]]] = [
        ("health", lambda i: ("GET", "/healthz", {}), {}),
        ("submit", submit, {}),
        (f"submit@{args.rate:g}", submit, {"rate": args.rate}),
        ("queue-api", lambda i: ("GET", f"/api/v1/staff/tips?page={1 + i % 5}", bearer), {}),
        ("queue-page", lambda i: ("GET", f"/staff/queue?page={1 + i % 5}", page_headers), {}),
        (f"queue-page@{args.queue_rate:g}", lambda i: ("GET", f"/staff/queue?page={1 + i % 5}", page_headers),
         {"rate": args.queue_rate}),
    ]  # fmt: skip
    for name, make, extra in runs:
        opened = database_sessions(database_url)
        result = await run_phase(
            name, base, make, connections=conns, max_requests=args.requests, **common, **extra
        )
        figures.append(report(result, bare, cores))
        # minus the one this count itself opened
        figures[-1]["database_connections_opened"] = database_sessions(database_url) - opened - 1
        print(f"{'':<12} database connections opened: {figures[-1]['database_connections_opened']}")
        if make is submit:
            figures[-1].update(triage_catch_up(database_url, pid, result))
    return figures


def _scalar(database_url: str, sql: str) -> int:
    """One number from the database, on a connection of its own (the bench keeps none open)."""
    engine = create_engine(make_url(database_url), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(sql)).scalar_one())
    finally:
        engine.dispose()


def database_sessions(database_url: str) -> int:
    """Connections ever opened to the database (PostgreSQL counts them as they close).

    A phase that opens many means the workers' pools are too small and each request pays for a new
    server process.
    """
    return _scalar(database_url, "SELECT sessions FROM pg_stat_database WHERE datname = current_database()")


def triage_catch_up(database_url: str, server_pid: int, result: PhaseResult) -> dict[str, Any]:
    """Wait until the server's background triage has analysed every submitted tip (bounded).

    Triage runs after the response, so a phase's figures alone would leave its analysis work to the
    next phase: this reports how long triage lagged behind and the server CPU per tip with it included.
    """
    cpu0, _ = process_cpu(server_pid)
    started = time.perf_counter()
    while True:
        waiting = _scalar(database_url, "SELECT count(*) FROM tips WHERE triage_state = 'pending'")
        if not waiting or time.perf_counter() - started > TRIAGE_CATCH_UP_LIMIT:
            break
        time.sleep(0.1)
    lag = time.perf_counter() - started
    cpu1, _ = process_cpu(server_pid)
    per_tip = (result.server_cpu + cpu1 - cpu0) / max(1, result.ok) * 1000
    print(
        f"{'':<12} triage caught up {lag:.1f} s after the phase ({waiting} still pending); "
        f"server {per_tip:.1f} ms cpu per tip including triage",
        flush=True,
    )
    return {
        "triage_lag_s": round(lag, 1),
        "triage_pending": waiting,
        "server_cpu_ms_per_tip_with_triage": round(per_tip, 2),
    }


def verdict(figures: list[dict[str, Any]], rate: float, queue_rate: float) -> list[str]:
    by_name = {f["name"]: f for f in figures}
    target_rate, target_p99 = SUBMIT_TARGET
    lines = []
    closed, at_rate = by_name["submit"], by_name[f"submit@{rate:g}"]
    ok = (
        closed["rate"] >= target_rate
        and at_rate["rate"] >= target_rate * 0.97
        and at_rate["p99_ms"] < target_p99 * 1000
    )
    lines.append(
        f"submissions: max {closed['rate']}/s; at {rate:g}/s p99 {at_rate['p99_ms']} ms "
        f"(target >= {target_rate:g}/s, p99 < {target_p99 * 1000:g} ms): {'OK' if ok else 'MISSED'}"
    )
    # The page's target is judged at the open-loop rate (a dispatcher office refreshing its queue); the
    # closed-loop phase shows the latency when 16 clients keep the server saturated.
    at_rate = by_name[f"queue-page@{queue_rate:g}"]
    saturated = by_name["queue-page"]
    lines.append(
        f"queue page: at {queue_rate:g}/s p99 {at_rate['p99_ms']} ms (target < {QUEUE_TARGET_P99 * 1000:g} ms): "
        f"{'OK' if at_rate['p99_ms'] < QUEUE_TARGET_P99 * 1000 else 'MISSED'}; saturated "
        f"({saturated['rate']}/s closed loop) p99 {saturated['p99_ms']} ms"
    )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tips", type=int, default=1_000_000, help="tips stored before the test")
    parser.add_argument("--url", default=os.environ.get("HOTLINE_BENCH_POSTGRES_URL", DEFAULT_URL))
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--connections", type=int, default=16, help="client keep-alive connections")
    parser.add_argument("--seconds", type=float, default=20, help="longest duration of one phase")
    parser.add_argument("--requests", type=int, default=10_000, help="most requests of one phase")
    parser.add_argument("--rate", type=float, default=SUBMIT_TARGET[0], help="open-loop submission rate")
    parser.add_argument("--queue-rate", type=float, default=20, help="open-loop queue page rate")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()

    print(f"machine: {machine()}")
    data_dir = Path(tempfile.mkdtemp(prefix="hotline-load-"))
    try:
        with scratch_database(args.url, "hotline_load") as url:
            env = {
                **os.environ,
                "HOTLINE_DATABASE_URL": url,
                "HOTLINE_DATA_DIR": str(data_dir),
                "HOTLINE_RATE_LIMITS": "false",
                "HOTLINE_DEMO": "true",
            }
            subprocess.run([HOTLINE, "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True)
            print(f"generating {args.tips:,} tips in {make_url(url).database}")
            started = time.perf_counter()
            texts = sample_texts()
            fill(url, args.tips, texts)
            print(f"generated in {time.perf_counter() - started:.1f} s")
            token = create_dispatcher(env)
            port = _free_port()
            base = f"http://127.0.0.1:{port}"
            log_path = data_dir / "server.log"
            with running_server(env, port, args.workers, log_path) as proc:
                wait_healthy(base, proc)
                cookie = login_cookie(base)
                print(
                    f"server: hotline serve --workers {args.workers} --no-scheduler on {base}; "
                    f"client: {args.connections} connections, phases <= {args.requests:,} requests and "
                    f"<= {args.seconds:g} s"
                )
                figures = asyncio.run(phases(args, base, token, cookie, proc.pid, texts, url))
            for line in verdict(figures, args.rate, args.queue_rate):
                print(line)
            if args.json:
                args.json.write_text(
                    json.dumps({"machine": machine(), "tips": args.tips, "phases": figures}, indent=2)
                )
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
