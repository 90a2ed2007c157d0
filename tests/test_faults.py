"""Faults with real processes: the web process killed with SIGKILL mid-submission, the database gone during
load, the attachment disk full. No acknowledged tip is lost, none is half-stored, clients get a clear
answer, and service comes back by itself."""

import errno
import io
import random
import re
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from hotline.settings import Settings
from models.audit import AuditEvent
from models.db import unit_of_work
from models.tips import Attachment, Reporter, Tip
from tests.factories import PASSWORD, make_token, make_user
from tests.faults.process import HotlineProcess
from tests.faults.proxy import DatabaseProxy

TIP = {"text": "东源县仙塘镇有家小钢厂半夜偷偷开中频炉，烟很大", "channel": "api", "place": "东源县仙塘镇"}
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def _tip(n: int) -> dict[str, Any]:
    # Every fifth reporter gives a name and a number: the reporter row then carries encrypted identity.
    extra = {"anonymous": False, "name": "王女士", "contact": f"1390000{n:04d}"} if n % 5 == 0 else {}
    return {**TIP, "text": f"{TIP['text']}（第{n}次举报）", **extra}


def assert_stored_completely(sessions: sessionmaker[Session], acknowledged: list[str]) -> None:
    """Every acknowledged ticket has its tip, reporter and `received` event; nothing is half-stored."""
    with sessions() as db:
        stored = {
            ticket: (reporter, events)
            for ticket, reporter, events in db.execute(
                select(
                    Tip.ticket,
                    Reporter.id,
                    select(func.count())
                    .where(AuditEvent.tip_id == Tip.id, AuditEvent.action == "received")
                    .scalar_subquery(),
                ).outerjoin(Reporter, Reporter.id == Tip.reporter_id)
            )
        }
        lost = [t for t in acknowledged if t not in stored]
        assert not lost, f"tips answered 201 but not stored: {lost}"
        assert all(reporter is not None and events == 1 for reporter, events in stored.values()), stored
        orphans = db.scalar(
            select(func.count())
            .select_from(Reporter)
            .where(~select(Tip.id).where(Tip.reporter_id == Reporter.id).exists())
        )
        assert orphans == 0, "a reporter was stored without its tip"
        orphan_events = db.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "received", AuditEvent.tip_id.is_(None))
        )
        assert orphan_events == 0


@pytest.fixture
def hotline_process(settings: Settings) -> Iterator[HotlineProcess]:
    server = HotlineProcess(settings)
    yield server
    server.stop()


def test_a_web_process_killed_mid_submission_loses_no_acknowledged_tip(
    hotline_process: HotlineProcess, sessions: sessionmaker[Session]
) -> None:
    """Eight citizens submit at once; after 15 receipts the server is SIGKILLed and started again."""
    citizens, kill_after = 8, 15
    acknowledged: list[str] = []
    unexpected: list[int] = []
    cut_off = Counter[str]()
    lock = threading.Lock()
    enough = threading.Event()

    def citizen(n: int) -> None:
        with httpx.Client(base_url=hotline_process.url, timeout=60) as client:
            for i in range(100):
                try:
                    answer = client.post("/api/v1/tips", json=_tip(n * 100 + i))
                except httpx.TransportError as exc:  # the server died under this request
                    with lock:
                        cut_off[type(exc).__name__] += 1
                    return
                with lock:
                    if answer.status_code == 201:
                        acknowledged.append(answer.json()["ticket"])
                        if len(acknowledged) >= kill_after:
                            enough.set()
                    else:
                        unexpected.append(answer.status_code)

    hotline_process.start()
    with ThreadPoolExecutor(citizens) as pool:
        futures = [pool.submit(citizen, n) for n in range(citizens)]
        assert enough.wait(timeout=120), "the server did not acknowledge enough tips"
        hotline_process.kill9()
        for future in futures:
            future.result()
    assert not unexpected
    assert sum(cut_off.values()) == citizens  # every citizen was still submitting when it died

    hotline_process.start()
    with httpx.Client(base_url=hotline_process.url, timeout=60) as client:
        for n in range(3):
            answer = client.post("/api/v1/tips", json=_tip(10_000 + n))
            assert answer.status_code == 201, answer.text
            acknowledged.append(answer.json()["ticket"])
            status = client.get(
                f"/api/v1/tips/{answer.json()['ticket']}", params={"code": answer.json()["query_code"]}
            )
            assert status.status_code == 200 and status.json()["status"] == "received"
    assert_stored_completely(sessions, acknowledged)
    # Tips acknowledged but not yet analysed when the process died are swept by the new one.
    deadline = time.monotonic() + 60
    while (waiting := _untriaged(sessions, acknowledged)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not waiting, f"acknowledged tips never triaged: {waiting}"


def _untriaged(sessions: sessionmaker[Session], tickets: list[str]) -> list[str]:
    with sessions() as db:
        return list(
            db.scalars(select(Tip.ticket).where(Tip.ticket.in_(tickets), Tip.triage_state == "pending"))
        )


@pytest.fixture
def dispatcher_token(sessions: sessionmaker[Session]) -> str:
    with unit_of_work(sessions) as db:
        return make_token(db, make_user(db, "fault-dispatcher", "dispatcher"))


def _login(client: httpx.Client) -> None:
    form = client.get("/staff/login").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert csrf
    answer = client.post(
        "/staff/login",
        data={"username": "fault-dispatcher", "password": PASSWORD, "csrf_token": csrf.group(1)},
    )
    assert answer.status_code == 303


def _check_every_route(
    client: httpx.Client, staff: httpx.Client, ticket: str, code: str, n: int
) -> dict[str, httpx.Response]:
    """One request to each kind of route a citizen, an operator or a dispatcher uses."""
    return {
        "api submit": client.post("/api/v1/tips", json=_tip(n)),
        "api status": client.get(f"/api/v1/tips/{ticket}", params={"code": code}),
        "api rating": client.post(
            f"/api/v1/tips/{ticket}/rating", json={"code": code, "satisfaction": "满意"}
        ),
        "staff api queue": client.get("/api/v1/staff/tips", headers=staff.headers),
        "healthz": client.get("/healthz"),
        "web form": client.post("/tips", data={"text": _tip(n)["text"], "place": "东源县", "anonymous": "1"}),
        "status page": client.get("/status", params={"ticket": ticket, "code": code}),
        "staff queue page": staff.get("/staff/queue"),
        "open311 requests": client.get("/open311/v2/requests.json", params={"api_key": "not-a-key"}),
    }


def test_while_the_database_is_unreachable_clients_get_503_and_service_resumes_by_itself(
    settings: Settings, sessions: sessionmaker[Session], dispatcher_token: str
) -> None:
    """The proxy stands in for a stopped PostgreSQL server: when cut, open connections are closed under the
    app and new ones are refused, which is what clients of a stopped (or restarting, or unreachable) server
    see. The machine's PostgreSQL itself is never stopped: other test runs share it."""
    if settings.database_url.startswith("sqlite"):
        pytest.skip("an embedded SQLite file has no server to lose")
    url = make_url(settings.database_url)
    with DatabaseProxy(url.host or "127.0.0.1", url.port or 5432) as proxy:
        proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        server = HotlineProcess(settings, database_url=proxied)
        server.start()
        try:
            _database_outage(server, proxy, sessions, dispatcher_token)
        finally:
            server.stop()


def _database_outage(
    server: HotlineProcess, proxy: DatabaseProxy, sessions: sessionmaker[Session], token: str
) -> None:
    acknowledged: list[str] = []
    statuses = Counter[int]()
    lock = threading.Lock()
    stop, saw_503, saw_201_after = threading.Event(), threading.Event(), threading.Event()
    restored = threading.Event()

    def citizen(n: int) -> None:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            i = 0
            while not stop.is_set():
                answer = client.post("/api/v1/tips", json=_tip(n * 1000 + i))
                i += 1
                with lock:
                    statuses[answer.status_code] += 1
                    if answer.status_code == 201:
                        acknowledged.append(answer.json()["ticket"])
                        if restored.is_set():
                            saw_201_after.set()
                    elif answer.status_code == 503:
                        assert answer.json()["error"] == "database_unavailable"
                        saw_503.set()

    with (
        httpx.Client(base_url=server.url, timeout=60) as client,
        httpx.Client(base_url=server.url, timeout=60, headers={"Authorization": f"Bearer {token}"}) as staff,
    ):
        first = client.post("/api/v1/tips", json=_tip(1)).json()
        ticket, code = first["ticket"], first["query_code"]
        acknowledged.append(ticket)
        login = httpx.Client(base_url=server.url, timeout=60)
        _login(login)
        staff.cookies = login.cookies
        login.close()
        healthy = _check_every_route(client, staff, ticket, code, 2)
        assert {name: r.status_code for name, r in healthy.items()} == {
            "api submit": 201, "api status": 200, "api rating": 409, "staff api queue": 200, "healthz": 200,
            "web form": 201, "status page": 200, "staff queue page": 200, "open311 requests": 401,
        }  # fmt: skip

        with ThreadPoolExecutor(4) as pool:
            load = [pool.submit(citizen, n) for n in range(1, 5)]
            proxy.cut()
            down = _check_every_route(client, staff, ticket, code, 3)
            assert saw_503.wait(timeout=60), "the load never met the outage"
            proxy.restore()
            restored.set()
            up = _check_every_route(client, staff, ticket, code, 4)
            assert saw_201_after.wait(timeout=60)
            stop.set()
            for future in load:
                future.result()

    for name, answer in down.items():
        assert answer.status_code == 503, (name, answer.status_code, answer.text[:300])
        if name == "healthz":
            assert answer.json() == {"status": "unavailable", "database": "down"}
        elif name.startswith(("api", "staff api")):
            assert answer.json()["error"] == "database_unavailable"
            assert CHINESE.search(answer.json()["message"])
        elif name.startswith("open311"):
            assert CHINESE.search(answer.text)
        else:
            assert "数据库暂时不可用" in answer.text
    # Nobody restarted anything: the very first request of each kind succeeds again.
    assert {name: r.status_code for name, r in up.items()} == {
        name: r.status_code for name, r in healthy.items()
    }
    assert set(statuses) <= {201, 503}, statuses
    assert_stored_completely(sessions, acknowledged + [up["api submit"].json()["ticket"]])


# ---- attachment disk full ------------------------------------------------------------------------


def _photo() -> bytes:
    rng = random.Random(7)
    image = Image.new("RGB", (96, 96))
    image.putdata([(rng.randrange(256), rng.randrange(256), rng.randrange(256)) for _ in range(96 * 96)])
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def full_attachment_disk(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The attachments directory on a tiny tmpfs filled to the last byte; where mounting is not allowed
    (not root), writes there fail with ENOSPC half-way instead. Yields the filler file: delete it to free
    the space again."""
    directory = settings.attachments_dir
    directory.mkdir(parents=True)
    mounted = (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(directory)], capture_output=True
        ).returncode
        == 0
    )
    filler = directory / "filler"
    try:
        if mounted:
            with filler.open("wb", buffering=0) as fh:
                try:
                    while True:
                        fh.write(b"\0" * 4096)
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC
        else:
            filler.write_bytes(b"")
            real_write = Path.write_bytes

            def write_until_full(path: Path, data: bytes) -> int:  # type: ignore[override]
                if path.parent == directory and filler.exists():
                    real_write(path, data[: len(data) // 2])
                    raise OSError(errno.ENOSPC, "No space left on device", str(path))
                return real_write(path, data)

            monkeypatch.setattr(Path, "write_bytes", write_until_full)
        yield filler
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(directory)], check=True)


def test_a_full_attachment_disk_refuses_the_tip_clearly_and_leaves_nothing_behind(
    server: Any, sessions: sessionmaker[Session], full_attachment_disk: Path
) -> None:
    directory = full_attachment_disk.parent
    form = {"text": TIP["text"], "place": "东源县仙塘镇", "anonymous": "1"}
    with server.client() as client:
        answer = client.post("/tips", data=form, files=[("photos", ("smoke.png", _photo(), "image/png"))])
        assert answer.status_code in (503, 507), answer.text[:500]
        assert "存储空间" in answer.text  # a Chinese explanation, on the form the citizen filled in
        assert TIP["text"] in answer.text  # the text is kept, so nothing has to be typed again
        with sessions() as db:
            assert db.scalar(select(func.count()).select_from(Tip)) == 0
            assert db.scalar(select(func.count()).select_from(Reporter)) == 0
            assert db.scalar(select(func.count()).select_from(Attachment)) == 0
        assert sorted(p.name for p in directory.iterdir()) == ["filler"]  # no partial photo

        full_attachment_disk.unlink()  # an operator frees space; the app itself is not touched
        answer = client.post("/tips", data=form, files=[("photos", ("smoke.png", _photo(), "image/png"))])
        assert answer.status_code == 201
    with sessions() as db:
        stored = db.scalars(select(Attachment.stored_name)).all()
        assert db.execute(text("SELECT 1")).scalar() == 1
    assert sorted(p.name for p in directory.iterdir()) == sorted(stored) and len(stored) == 1
