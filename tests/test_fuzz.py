"""Hostile input: schemathesis over the live OpenAPI schema (no 5xx, answers as documented), and XSS payloads
in every text field of a tip, which every page that shows the tip must render escaped."""

import io
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import hypothesis
import hypothesis.errors
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase
from PIL import Image
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
)
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.core.result import Ok
from sqlalchemy.orm import Session, sessionmaker

from hotline.settings import Settings
from models.db import unit_of_work
from models.tips import Tip
from tests.factories import PASSWORD, TZ, actor, make_tip, make_token, make_user, tech_order
from triage.workorders import approve, dispatch, reply, sign

EXAMPLES = {GenerationMode.POSITIVE: 20, GenerationMode.NEGATIVE: 15}  # per operation: bounded time
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _fuzz(
    operation: schemathesis.APIOperation,
    mode: GenerationMode,
    examples: int,
    base_url: str,
    http: requests.Session,
    headers: dict[str, str],
) -> list[str]:
    """Send `examples` generated requests to one operation; return the failed checks with a curl command."""
    failures: list[str] = []

    @hypothesis.settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,  # the same requests every run: a failure is reproducible
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    def probe(case: schemathesis.Case) -> None:
        response = case.call(base_url=base_url, session=http, headers=headers, timeout=30)
        try:
            case.validate_response(response, checks=CHECKS)
        except (Failure, FailureGroup) as exc:
            found = exc.exceptions if isinstance(exc, FailureGroup) else [exc]
            for failure in found:
                detail = (str(getattr(failure, "message", "")).strip().splitlines() or [""])[0]
                failures.append(
                    f"{operation.label} [{mode.value}] -> {response.status_code} "
                    f"{getattr(failure, 'title', type(failure).__name__)}: {detail}\n"
                    f"    {case.as_curl_command(headers={'Authorization': 'Bearer <dispatcher token>'})}\n"
                    f"    answer: {response.text[:200]}"
                )

    try:
        probe()
    except hypothesis.errors.Unsatisfiable:
        assert mode is GenerationMode.NEGATIVE  # an operation without inputs cannot be sent invalid ones
    return failures


def test_fuzzing_every_api_operation_gives_no_server_error_and_only_documented_answers(
    server: Any, sessions: sessionmaker[Session], settings: Settings
) -> None:
    """Valid and invalid requests generated from /openapi.json, with a dispatcher's token so that the staff
    operations are reached too; failures are collected so one run lists them all with a curl command."""
    with unit_of_work(sessions) as db:
        token = make_token(db, make_user(db, "fuzz-dispatcher", "dispatcher"))
    make_tip(sessions, settings)  # tip 1 exists: some generated ids hit a real tip
    schema = schemathesis.openapi.from_url(server.url + "/openapi.json")
    headers = {"Authorization": f"Bearer {token}"}
    failures: list[str] = []
    operations = 0
    started = time.monotonic()
    with requests.Session() as http:
        for result in schema.get_all_operations():
            assert isinstance(result, Ok), f"the schema has an invalid operation: {result}"
            operations += 1
            for mode, examples in EXAMPLES.items():
                failures += _fuzz(result.ok(), mode, examples, server.url, http, headers)
    assert operations >= 20, "the schema lost its operations"
    assert not failures, f"{len(failures)} failure(s):\n" + "\n".join(dict.fromkeys(failures))
    assert time.monotonic() - started < 120  # bounded: a slow run means EXAMPLES grew too far


# ---- XSS ------------------------------------------------------------------------------------------

PAYLOADS = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "'><svg onload=alert(1)>"]
RAW = re.compile(r"<script>alert|<img src=x|<svg onload", re.IGNORECASE)


def _hostile(field: str, payloads: int = 3) -> str:
    return field + "".join(PAYLOADS[:payloads])


@contextmanager
def _login(server: Any, username: str) -> Iterator[httpx.Client]:
    with server.client() as client:
        csrf = CSRF.search(client.get("/staff/login").text)
        assert csrf
        answer = client.post(
            "/staff/login", data={"username": username, "password": PASSWORD, "csrf_token": csrf.group(1)}
        )
        assert answer.status_code == 303
        yield client


def test_script_in_every_text_field_is_shown_escaped_on_every_page(
    server: Any, sessions: sessionmaker[Session], settings: Settings
) -> None:
    """A reporter puts markup in the text, place, enterprise, name and contact; a department puts it in its
    reply. Nobody's browser may ever run it: not the citizen's, the dispatcher's, the department's nor the
    bureau's."""
    with unit_of_work(sessions) as db:
        dispatcher = make_user(db, "xss-dispatcher", "dispatcher")
        department = make_user(db, "xss-miit", "department", "miit")
        make_user(db, "xss-bureau", "bureau")
        dispatcher_actor, department_actor = actor(dispatcher), actor(department)
    pages: dict[str, str] = {}
    with server.client() as citizen:
        receipt = citizen.post(
            "/tips",
            data={
                "text": "龙川县中频炉炼钢" + _hostile("text"),
                "place": _hostile("place"),
                "enterprise_name": _hostile("enterprise"),
                "name": _hostile("n", payloads=2),  # a name has at most 60 characters
                "contact": _hostile("13800000000"),
                "anonymous": "0",
            },
        )
        assert receipt.status_code == 201, receipt.text[:500]
        pages["receipt"] = receipt.text
        ticket = re.search(r"HY\d{8}-\d{6}", receipt.text)
        code = re.search(r'id="query-code">([A-Z0-9]{10})<', receipt.text)
        assert ticket and code
    with sessions() as db:
        tip = db.query(Tip).filter_by(ticket=ticket.group(0)).one()
        tip_id = tip.id
    with unit_of_work(sessions) as db:
        [assignment] = dispatch(
            db, dispatcher_actor, tip_id, tech_order(co_handlers=(), note=_hostile("note")), TZ
        )
        assignment_id = assignment.id
    with unit_of_work(sessions) as db:
        sign(db, department_actor, assignment_id)
        reply(db, department_actor, assignment_id, _hostile("reply"))
    with _login(server, "xss-miit") as officer:
        pages["department inbox"] = officer.get("/staff/inbox").text
        pages["department tip"] = officer.get(f"/staff/tips/{tip_id}").text
    with unit_of_work(sessions) as db:
        approve(db, dispatcher_actor, assignment_id)
    with _login(server, "xss-dispatcher") as staff:
        pages["queue"] = staff.get("/staff/queue", params={"status": "closed"}).text
        pages["tip detail"] = staff.get(f"/staff/tips/{tip_id}").text
        csrf = CSRF.search(pages["tip detail"])
        assert csrf
        pages["reporter"] = staff.post(
            f"/staff/tips/{tip_id}/reporter", data={"csrf_token": csrf.group(1)}
        ).text
        pages["inbox (dispatcher)"] = staff.get(
            "/staff/inbox", params={"department": "miit", "all": "1"}
        ).text
    with _login(server, "xss-bureau") as bureau:
        pages["overview"] = bureau.get("/staff/overview").text
        pages["digests"] = bureau.get("/staff/digests").text
    with server.client() as citizen:
        pages["status page"] = citizen.get(
            "/status", params={"ticket": ticket.group(0), "code": code.group(1)}
        ).text
        api = citizen.get(f"/api/v1/tips/{ticket.group(0)}", params={"code": code.group(1)})
        assert api.headers["content-type"].startswith("application/json")

    unescaped = {name: RAW.findall(html) for name, html in pages.items() if RAW.search(html)}
    assert not unescaped, f"markup rendered unescaped: {unescaped}"
    # The payloads are on the pages, escaped — the pages did show the fields, so the check above means something.
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    for name, field in [
        ("queue", "text"), ("tip detail", "text"), ("tip detail", "place"), ("tip detail", "enterprise"),
        ("tip detail", "reply"), ("reporter", "n"), ("reporter", "13800000000"),
        ("department tip", "text"), ("department tip", "reply"), ("department inbox", "text"),
        ("status page", "reply"),
    ]:  # fmt: skip
        assert f"{field}{escaped}" in pages[name].replace("&#34;", "&quot;"), (name, field)


# ---- hostile uploads over HTTP -------------------------------------------------------------------


def _bomb() -> bytes:
    """50 million pixels in a few kilobytes: it would take 50 MB+ decoded, more in RGB."""
    out = io.BytesIO()
    Image.new("1", (10_000, 5_000)).save(out, format="PNG", optimize=True)
    return out.getvalue()


@pytest.mark.parametrize(
    ("upload", "status", "message"),
    [
        pytest.param(lambda: _bomb(), 422, "像素过大", id="decompression-bomb"),
        pytest.param(lambda: b"<script>alert(1)</script>", 422, "JPEG", id="script-named-png"),
        pytest.param(lambda: b"%PDF-1.4\n" + b"0" * 2000, 422, "JPEG", id="pdf-named-png"),
        pytest.param(
            lambda: b"\x89PNG\r\n\x1a\n" + b"\x00" * (11 * 1024 * 1024), 413, "10MB", id="oversized"
        ),
    ],
)
def test_a_hostile_upload_through_the_web_form_is_refused_and_nothing_is_kept(
    server: Any, sessions: sessionmaker[Session], settings: Settings, upload: Any, status: int, message: str
) -> None:
    with server.client() as citizen:
        answer = citizen.post(
            "/tips",
            data={"text": "东源县有钢厂偷偷开工冒黑烟", "anonymous": "1"},
            files=[("photos", ("evidence.png", upload(), "image/png"))],
        )
    assert answer.status_code == status, answer.text[:300]
    assert message in answer.text
    with sessions() as db:
        assert db.query(Tip).count() == 0
    attachments = settings.attachments_dir
    assert not attachments.exists() or not any(attachments.iterdir())
