"""The load generator: a fixed number of keep-alive aiohttp connections, bounded by request count and time.

Two ways to drive a phase:
- closed loop (`rate=None`): each of `connections` workers sends its next request when the last one is
  answered — this finds the highest rate the server sustains;
- open loop (`rate=R`): requests start on a fixed schedule of R per second whatever the answers, so a
  slow server cannot hide its latency by slowing the client down (no coordinated omission); latency is
  counted from the scheduled start.
"""

import asyncio
import os
import resource
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

RequestSpec = tuple[str, str, dict[str, Any]]  # method, path, aiohttp keyword arguments


@dataclass
class PhaseResult:
    name: str
    latencies: list[float] = field(default_factory=list)  # seconds, successful answers only
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    elapsed: float = 0.0
    client_cpu: float = 0.0  # seconds of CPU this process used during the phase
    server_cpu: float = 0.0  # seconds of CPU of the server's process tree
    database_cpu: float = 0.0  # seconds of CPU of every PostgreSQL process (shared with others' work)
    machine_busy: float = 0.0  # share of all cores busy during the phase (0..1)

    @property
    def ok(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.ok / self.elapsed if self.elapsed else 0.0

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def process_cpu(root_pid: int | None) -> tuple[float, dict[int, float]]:
    """CPU seconds (utime + stime) of `root_pid` with all its descendants, and of each `postgres` process."""
    ticks = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = {}
    stats: dict[int, float] = {}
    database: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                raw = fh.read()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2 :].split()
        pid, ppid = int(entry), int(fields[1])
        children.setdefault(ppid, []).append(pid)
        stats[pid] = (int(fields[11]) + int(fields[12])) / ticks
        if raw[raw.index("(") + 1 : raw.rindex(")")] == "postgres":
            database[pid] = stats[pid]
    total, todo = 0.0, [root_pid] if root_pid else []
    while todo:
        pid = todo.pop()
        total += stats.get(pid, 0.0)
        todo.extend(children.get(pid, []))
    return total, database


def _machine_ticks() -> tuple[int, int]:
    with open("/proc/stat") as fh:
        values = [int(v) for v in fh.readline().split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def _self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _send(
    session: aiohttp.ClientSession, base: str, spec: RequestSpec, result: PhaseResult, started: float
) -> None:
    method, path, kwargs = spec
    try:
        async with session.request(method, base + path, **kwargs) as response:
            await response.read()
            result.statuses[response.status] += 1
            if response.status < 400:
                result.latencies.append(time.perf_counter() - started)
    except (TimeoutError, aiohttp.ClientError) as exc:
        result.errors[type(exc).__name__] += 1


async def run_phase(
    name: str,
    base: str,
    make_request: Callable[[int], RequestSpec],
    *,
    connections: int,
    max_requests: int,
    max_seconds: float,
    rate: float | None = None,
    server_pid: int | None = None,
) -> PhaseResult:
    """Run one phase until `max_requests` have been sent or `max_seconds` have passed."""
    result = PhaseResult(name)
    connector = aiohttp.TCPConnector(limit=connections, force_close=False)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        busy0, all0 = _machine_ticks()
        cpu0 = _self_cpu()
        server0, database0 = process_cpu(server_pid)
        t0 = time.perf_counter()
        deadline = t0 + max_seconds
        if rate is None:
            counter = iter(range(max_requests))

            async def worker() -> None:
                for i in counter:
                    if time.perf_counter() > deadline:
                        return
                    await _send(session, base, make_request(i), result, time.perf_counter())

            await asyncio.gather(*(worker() for _ in range(connections)))
        else:
            in_flight: set[asyncio.Task[None]] = set()
            backlog = connections * 8
            for i in range(max_requests):
                scheduled = t0 + i / rate
                if scheduled > deadline:
                    break
                delay = scheduled - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                if len(in_flight) >= backlog:
                    # Far past capacity: count the request as refused by the client rather than queue
                    # thousands of them, which would only make the phase outlast its time bound.
                    result.errors["client backlog full"] += 1
                    continue
                task = asyncio.create_task(_send(session, base, make_request(i), result, scheduled))
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)
            await asyncio.gather(*in_flight)
        result.elapsed = time.perf_counter() - t0
        result.client_cpu = _self_cpu() - cpu0
        server1, database1 = process_cpu(server_pid)
        result.server_cpu = server1 - server0
        # Backends that ended during the phase are not counted; new ones count from zero.
        result.database_cpu = sum(cpu - database0.get(pid, 0.0) for pid, cpu in database1.items())
        busy1, all1 = _machine_ticks()
        result.machine_busy = (busy1 - busy0) / max(1, all1 - all0)
    return result
