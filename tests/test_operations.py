"""Operations: health, metrics, request ids, and logs that never carry secrets."""

import json
import logging
import os
import subprocess
import sys

import httpx
import pytest

from hotline.observability import JsonFormatter
from tests.faults.process import HotlineProcess


def test_metrics_count_requests_and_read_the_queue_from_the_database(server):  # type: ignore[no-untyped-def]
    client = server.client()
    client.post("/api/v1/tips", json={"text": "龙川县老隆镇的钢厂夜里冒黑烟", "channel": "api"})
    text = client.get("/metrics").text
    assert 'hotline_tips{status="received"} 1.0' in text
    assert "hotline_queue_size 1.0" in text
    assert "hotline_triage_waiting 1.0" in text  # the test app has no triage engine
    assert 'hotline_http_requests_total{method="POST",route="/api/v1/tips",status="201"} 1.0' in text


def test_health_reports_the_database_and_whether_a_scheduler_runs(server, sessions):  # type: ignore[no-untyped-def]
    from digest.jobs import OVERDUE_SCAN
    from models.db import unit_of_work
    from models.digest import JobRun

    client = server.client()
    before = client.get("/healthz").json()
    assert before["database"] == "ok" and before["scheduler"]["status"] == "never_ran"
    with unit_of_work(sessions) as s:
        s.add(JobRun(job=OVERDUE_SCAN, period_key="now"))
    assert client.get("/healthz").json()["scheduler"]["status"] == "ok"


def test_every_response_carries_a_request_id(server):  # type: ignore[no-untyped-def]
    client = server.client()
    assert len(client.get("/healthz").headers["x-request-id"]) == 16
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"] == "abc-123"
    assert (
        client.get("/healthz", headers={"X-Request-ID": "bad id;" + "x" * 100}).headers["x-request-id"]
        != "bad id;" + "x" * 100
    )


def test_access_logs_carry_no_query_codes_or_contacts(server, caplog):  # type: ignore[no-untyped-def]
    client = server.client()
    with caplog.at_level(logging.INFO, logger="hotline.access"):
        receipt = client.post(
            "/api/v1/tips",
            json={
                "text": "紫金县玻璃厂复产冒烟",
                "channel": "api",
                "anonymous": False,
                "contact": "13612345678",
            },
        ).json()
        client.get(f"/api/v1/tips/{receipt['ticket']}", params={"code": receipt["query_code"]})
    lines = [JsonFormatter().format(r) for r in caplog.records if r.name == "hotline.access"]
    assert len(lines) == 2
    assert all(json.loads(line)["request_id"] for line in lines)
    joined = "\n".join(lines)
    assert receipt["query_code"] not in joined and "13612345678" not in joined


def test_a_command_without_a_database_says_so_in_one_line(tmp_path):  # type: ignore[no-untyped-def]
    missing = tmp_path / "no" / "such" / "dir"
    env = {
        **os.environ,
        "HOTLINE_DATA_DIR": str(missing),
        "HOTLINE_DATABASE_URL": f"sqlite:///{missing}/h.db",
    }
    done = subprocess.run(
        [sys.executable, "-c", "from hotline.cli import run; run()", "users", "add", "x", "--role", "dispatcher", "--password", "pw-123456"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "无法打开或连接数据库" in done.stdout and "Traceback" not in done.stdout + done.stderr


@pytest.mark.parametrize("blank", ["", " "])
def test_a_blank_data_dir_is_refused_in_one_line_and_writes_nothing(tmp_path, blank):  # type: ignore[no-untyped-def]
    """An empty HOTLINE_DATA_DIR used to mean the current directory: a stray hotline.db wherever a command ran."""
    env = {**os.environ, "HOTLINE_DATA_DIR": blank}
    env.pop("HOTLINE_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", "from hotline.cli import run; run()", "db", "upgrade"],
        env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "HOTLINE_DATA_DIR 已设置但为空" in done.stdout and "Traceback" not in done.stdout + done.stderr
    assert list(tmp_path.iterdir()) == []


def _count(metrics: str, route: str) -> float:
    """hotline_http_requests_total of one route, all methods and statuses together."""
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("hotline_http_requests_total{") and f'route="{route}"' in line
    )


def test_metrics_add_up_the_requests_of_every_worker(settings):  # type: ignore[no-untyped-def]
    server = HotlineProcess(settings, workers=2)
    server.start()
    try:
        server.wait_for_log("Application startup complete", times=2)  # both workers serve
        before = _count(httpx.get(server.url + "/metrics").text, "/favicon.ico")
        for _ in range(40):  # a new connection each time: the kernel spreads them over the workers
            assert httpx.get(server.url + "/favicon.ico").status_code == 204
        scrapes = {_count(httpx.get(server.url + "/metrics").text, "/favicon.ico") for _ in range(10)}
    finally:
        server.stop()
    # Whichever worker answers the scrape, it reports the requests of both.
    assert scrapes == {before + 40}
    # And both workers write the JSON request log (a worker is a new process: it needs its own set-up).
    lines = [json.loads(line) for line in server.log_path.read_text().splitlines() if line.startswith("{")]
    assert sum(1 for e in lines if e["logger"] == "hotline.access" and "/favicon.ico" in e["message"]) >= 40
