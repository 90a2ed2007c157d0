"""Operations: request ids, one structured log line per request, and Prometheus metrics at /metrics.

Log lines never carry query strings or bodies: a status query's `code` and a reporter's contact must
not end up in logs.
"""

import contextvars
import json
import logging
import logging.config
import os
import re
import secrets
import time
from collections.abc import Iterator
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from models.base import utcnow
from models.tips import Tip, TriageState
from models.workorders import Assignment, AssignmentStatus

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
access_log = logging.getLogger("hotline.access")


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with the request id of the request being served."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": request_id_var.get(),
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


# JSON lines on stderr for this process and, passed to uvicorn as its `log_config`, for every worker
# process it starts (a worker is a new interpreter: logging set up in the parent does not reach it).
LOG_CONFIG: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "hotline.observability.JsonFormatter"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json"}},
    "root": {"handlers": ["stderr"], "level": "INFO"},
}


def configure_logging() -> None:
    logging.config.dictConfig(LOG_CONFIG)


def route_template(scope: Scope) -> str:
    """The matched route's path template (/api/v1/tips/{ticket}), so metrics do not explode per ticket."""
    route = scope.get("route")
    return str(getattr(route, "path", None) or "unmatched")


# Set (by `hotline serve --workers N`, or by whoever runs several servers) to a directory shared by the
# worker processes, before they start: each writes its request counts there, and a scrape of any worker
# adds up all of them (prometheus_client's multiprocess mode).
MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"


class Metrics:
    """Request metrics of every worker, plus database gauges computed when /metrics is scraped."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "hotline_http_requests_total",
            "HTTP requests",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "hotline_http_request_seconds",
            "HTTP request latency",
            ["method", "route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=self.registry,
        )
        self.gauges = DatabaseGauges(sessions)
        self.registry.register(self.gauges)

    def render(self) -> tuple[bytes, str]:
        shared = os.environ.get(MULTIPROCESS_ENV)
        if not shared:  # one process: its own counts are all the counts
            return generate_latest(self.registry), CONTENT_TYPE_LATEST
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=shared)
        registry.register(self.gauges)
        return generate_latest(registry), CONTENT_TYPE_LATEST


class DatabaseGauges(Collector):
    """Tips by status, the queue size, overdue assignments and tips awaiting triage, from the database."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with self.sessions() as session:
            by_status = session.execute(select(Tip.status, func.count()).group_by(Tip.status)).all()
            overdue = session.scalar(
                select(func.count()).where(
                    Assignment.status.in_((AssignmentStatus.pending, AssignmentStatus.accepted)),
                    Assignment.due_at < utcnow(),
                )
            )
            untriaged = session.scalar(select(func.count()).where(Tip.triage_state == TriageState.pending))
        tips = GaugeMetricFamily("hotline_tips", "Tips by status", labels=["status"])
        for status, count in by_status:
            tips.add_metric([status], count)
        yield tips
        queue = dict(by_status).get("received", 0)
        yield GaugeMetricFamily("hotline_queue_size", "Tips waiting for dispatch", value=queue)
        yield GaugeMetricFamily(
            "hotline_overdue_assignments", "Open assignments past due", value=overdue or 0
        )
        # Triage runs after the receipt: a growing number here means the workers do not keep up.
        yield GaugeMetricFamily(
            "hotline_triage_waiting", "Tips not yet analysed by triage", value=untriaged or 0
        )


class RequestContext:
    """Pure ASGI middleware: request id in and out (X-Request-ID), an access log line, latency metrics."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _SAFE_ID.match(incoming) else secrets.token_hex(8)
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500
        logged = False

        def finish() -> None:
            nonlocal logged
            logged = True
            elapsed = time.perf_counter() - started
            route = route_template(scope)
            self.metrics.requests.labels(scope["method"], route, str(status)).inc()
            self.metrics.latency.labels(scope["method"], route).observe(elapsed)
            access_log.info(
                "%s %s %s",
                scope["method"],
                scope["path"],
                status,
                extra={"fields": {"status": status, "route": route, "ms": round(elapsed * 1000, 1)}},
            )

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                finish()  # before the last bytes leave: the client never sees a response whose line is missing
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if not logged:
                finish()
            request_id_var.reset(token)
