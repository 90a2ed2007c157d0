"""The JSON API over real HTTP: citizens submit and follow tips; staff work them; bad input is refused clearly."""

import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial

import httpx
import pytest
from sqlalchemy import func, select

from models.audit import AuditEvent
from models.ratelimit import RateCounter
from models.tips import Reporter, Tip
from tests.factories import make_token, make_user
from triage.queue import CHECK_BELOW_CONFIDENCE

TICKET = re.compile(r"^HY\d{8}-\d{6}$")
TEXT = "连平县元善镇一家钢厂晚上偷偷开工频炉，噪音大，黑烟滚滚"


@pytest.fixture
def tokens(db):  # type: ignore[no-untyped-def]
    users = {
        "dispatcher": make_user(db, "disp", "dispatcher"),
        "miit": make_user(db, "miit1", "department", "miit"),
        "eeb": make_user(db, "eeb1", "department", "eeb"),
        "bureau": make_user(db, "boss", "bureau"),
    }
    result = {k: make_token(db, u) for k, u in users.items()}
    db.commit()
    return result


def _submit(client: httpx.Client, **fields: object) -> httpx.Response:
    return client.post("/api/v1/tips", json={"text": TEXT, "channel": "api", **fields})


def test_a_citizen_submits_a_tip_and_follows_it_with_the_query_code(server):  # type: ignore[no-untyped-def]
    with server.client() as client:
        created = _submit(client, place="连平县元善镇")
        assert created.status_code == 201, created.text
        body = created.json()
        assert TICKET.match(body["ticket"]) and body["status"] == "received"
        assert len(body["query_code"]) == 10
        status = client.get(f"/api/v1/tips/{body['ticket']}", params={"code": body["query_code"]})
        assert status.status_code == 200
        assert status.json()["status_label"] == "已受理"
        assert [h["event"] for h in status.json()["history"]] == ["received"]
        # lower-case code typed by hand still works
        assert (
            client.get(
                f"/api/v1/tips/{body['ticket']}", params={"code": body["query_code"].lower()}
            ).status_code
            == 200
        )


def test_a_wrong_code_looks_exactly_like_an_unknown_ticket(server):  # type: ignore[no-untyped-def]
    with server.client() as client:
        body = _submit(client).json()
        wrong = client.get(f"/api/v1/tips/{body['ticket']}", params={"code": "AAAAAAAAAA"})
        missing = client.get("/api/v1/tips/HY20200101-000001", params={"code": body["query_code"]})
        no_code = client.get(f"/api/v1/tips/{body['ticket']}")
    assert wrong.status_code == missing.status_code == no_code.status_code == 404
    assert wrong.json() == missing.json() == no_code.json()
    assert wrong.json()["error"] == "tip_not_found"


def test_ticket_numbers_count_up_within_a_day(server):  # type: ignore[no-untyped-def]
    with server.client() as client:
        first, second = _submit(client).json()["ticket"], _submit(client).json()["ticket"]
    assert first[:11] == second[:11]
    assert int(second[-6:]) == int(first[-6:]) + 1


def test_simultaneous_submissions_get_distinct_consecutive_tickets(server):  # type: ignore[no-untyped-def]
    clients = [server.client() for _ in range(8)]
    tickets: list[str] = []

    def call(client: httpx.Client) -> Callable[[], httpx.Response]:
        def post() -> httpx.Response:
            answer = _submit(client)
            tickets.append(answer.json()["ticket"])
            return answer

        return post

    assert _race([call(c) for c in clients]) == [201] * 8
    numbers = sorted(int(t[-6:]) for t in tickets)
    assert numbers == list(range(numbers[0], numbers[0] + 8))


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"text": ""}, 422, "text_required"),
        ({"text": "太短"}, 422, "text_too_short"),
        ({"text": "钢" * 5001}, 422, "text_too_long"),
        ({"text": TEXT, "channel": "fax"}, 422, "unknown_channel"),
        ({"text": TEXT, "channel": "telegram"}, 422, "unknown_channel"),
        ({"text": TEXT, "anonymous": False}, 422, "contact_required"),
        ({"text": TEXT, "latitude": 123.0}, 422, "invalid_location"),
        ({"channel": "api"}, 422, "invalid_request"),
        ({"text": TEXT, "channel": "phone"}, 403, "staff_channel"),
    ],
    ids=[
        "empty",
        "too-short",
        "over-5000",
        "unknown-channel",
        "telegram-only-via-bot",
        "named-without-contact",
        "bad-latitude",
        "missing-text",
        "phone-needs-staff",
    ],
)
def test_bad_submissions_get_a_chinese_message_and_a_stable_code(server, db, payload, status, code):  # type: ignore[no-untyped-def]
    with server.client() as client:
        response = client.post("/api/v1/tips", json=payload)
    assert response.status_code == status, response.text
    assert response.json()["error"] == code
    assert re.search(r"[\u4e00-\u9fff]", response.json()["message"])
    assert db.scalar(select(func.count()).select_from(Tip)) == 0


def test_malformed_json_and_oversized_bodies_are_refused(server):  # type: ignore[no-untyped-def]
    with server.client() as client:
        broken = client.post(
            "/api/v1/tips", content=b"{not json", headers={"content-type": "application/json"}
        )
        huge = client.post(
            "/api/v1/tips", content=b"x" * (3 * 1024 * 1024), headers={"content-type": "application/json"}
        )
    assert broken.status_code == 422 and broken.json()["error"] == "invalid_request"
    assert huge.status_code == 413 and huge.json()["error"] == "too_large"


def test_an_operator_logs_a_phone_call_with_a_staff_token(server, tokens, db):  # type: ignore[no-untyped-def]
    with server.client(tokens["dispatcher"]) as client:
        response = _submit(client, channel="phone", anonymous=False, name="李四", contact="0762-1234567")
    assert response.status_code == 201
    tip = db.scalar(select(Tip))
    assert tip.channel == "phone"
    assert db.get(Reporter, tip.reporter_id).contact == "0762-1234567"
    assert db.scalar(select(AuditEvent.actor).where(AuditEvent.action == "received")).startswith("user:")


def test_the_queue_says_which_suggestions_the_dispatcher_should_check(server, tokens, db):  # type: ignore[no-untyped-def]
    """请核对 only for a tip awaiting dispatch whose stored suggestion is below the confidence line."""
    citizen = server.client()
    tickets = [_submit(citizen, text=f"{TEXT}（第{n}次反映）").json()["ticket"] for n in range(5)]
    unsure, sure, failed, dispatched, unanalysed = (
        db.scalar(select(Tip).where(Tip.ticket == t)) for t in tickets
    )
    low, high = CHECK_BELOW_CONFIDENCE - 0.01, CHECK_BELOW_CONFIDENCE
    for tip, state, confidence in ((unsure, "done", low), (sure, "done", high), (failed, "failed", low)):
        tip.triage_state, tip.analysis = state, {"category": "tech", "confidence": confidence}
    dispatched.triage_state, dispatched.analysis = "done", {"category": "tech", "confidence": low}
    dispatched.status = "dispatched"
    db.commit()

    dispatcher = server.client(tokens["dispatcher"])
    queue = dispatcher.get("/api/v1/staff/tips").json()
    to_check = {t["ticket"]: t["suggestion_to_check"] for t in queue["tips"] if t["ticket"] in tickets}
    only = dispatcher.get("/api/v1/staff/tips", params={"to_check": "true"}).json()

    assert to_check == {
        unsure.ticket: True,
        sure.ticket: False,
        failed.ticket: False,
        dispatched.ticket: False,
        unanalysed.ticket: False,
    }
    # The filter is the same rule in SQL (the JSON confidence read on either backend).
    assert [t["ticket"] for t in only["tips"]] == [unsure.ticket] and only["total"] == 1


def test_staff_work_a_tip_to_closure_over_the_api(server, tokens):  # type: ignore[no-untyped-def]
    citizen = server.client()
    receipt = _submit(citizen).json()
    dispatcher, miit = server.client(tokens["dispatcher"]), server.client(tokens["miit"])
    queue = dispatcher.get("/api/v1/staff/tips").json()
    tip = next(t for t in queue["tips"] if t["ticket"] == receipt["ticket"])
    dispatched = dispatcher.post(
        f"/api/v1/staff/tips/{tip['id']}/dispatch",
        json={
            "category": "tech",
            "subtype": "ditiaogang",
            "lead": "miit",
            "county_code": "441623",
            "version": tip["version"],
        },
    )
    assert dispatched.status_code == 200, dispatched.text
    assignment = dispatched.json()["assignments"][0]
    assert assignment["department"] == "miit" and assignment["status"] == "pending"
    aid = assignment["id"]
    assert miit.post(f"/api/v1/staff/assignments/{aid}/sign", json={}).json()["status"] == "accepted"
    assert (
        miit.post(f"/api/v1/staff/assignments/{aid}/reply", json={"text": "已查封"}).json()["status"]
        == "replied"
    )
    assert dispatcher.post(f"/api/v1/staff/assignments/{aid}/approve", json={}).json()["status"] == "approved"
    status = citizen.get(f"/api/v1/tips/{receipt['ticket']}", params={"code": receipt["query_code"]}).json()
    assert status["status"] == "closed" and status["result_summary"] == "已查封" and status["can_rate"]
    rated = citizen.post(
        f"/api/v1/tips/{receipt['ticket']}/rating",
        json={"code": receipt["query_code"], "satisfaction": "满意"},
    )
    assert rated.status_code == 200 and rated.json()["satisfaction"] == "满意"
    again = citizen.post(
        f"/api/v1/tips/{receipt['ticket']}/rating",
        json={"code": receipt["query_code"], "satisfaction": "不满意"},
    )
    assert again.status_code == 409 and again.json()["error"] == "invalid_transition"


def test_departments_reach_neither_other_work_nor_reporters(server, tokens):  # type: ignore[no-untyped-def]
    citizen = server.client()
    _submit(citizen, anonymous=False, name="王五", contact="13912345678")
    dispatcher, eeb = server.client(tokens["dispatcher"]), server.client(tokens["eeb"])
    tip = dispatcher.get("/api/v1/staff/tips").json()["tips"][0]
    aid = dispatcher.post(
        f"/api/v1/staff/tips/{tip['id']}/dispatch",
        json={"category": "tech", "subtype": "ditiaogang", "lead": "miit"},
    ).json()["assignments"][0]["id"]
    assert eeb.get(f"/api/v1/staff/tips/{tip['id']}").status_code == 404
    assert eeb.post(f"/api/v1/staff/assignments/{aid}/sign", json={}).status_code == 404
    assert eeb.get("/api/v1/staff/assignments").json() == []
    assert eeb.get("/api/v1/staff/tips").status_code == 403
    assert eeb.get(f"/api/v1/staff/tips/{tip['id']}/reporter").status_code == 403
    miit_view = server.client(tokens["miit"]).get(f"/api/v1/staff/tips/{tip['id']}")
    assert (
        miit_view.status_code == 200 and "13912345678" not in miit_view.text and "王五" not in miit_view.text
    )
    reporter = dispatcher.get(f"/api/v1/staff/tips/{tip['id']}/reporter")
    assert reporter.json()["contact"] == "13912345678"
    history = dispatcher.get(f"/api/v1/staff/tips/{tip['id']}").json()["history"]
    assert [e["action"] for e in history].count("reporter_viewed") == 1


def test_requests_without_a_valid_token_are_unauthenticated(server):  # type: ignore[no-untyped-def]
    assert server.client().get("/api/v1/staff/tips").status_code == 401
    assert server.client("hl_not-a-real-token").get("/api/v1/staff/tips").json()["error"] == "bad_token"


def _race(calls: list[Callable[[], httpx.Response]]) -> list[int]:
    barrier = threading.Barrier(len(calls))
    results: list[int] = [0] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        results[i] = calls[i]().status_code

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(results)


def test_two_dispatchers_acting_at_once_cannot_both_win(server, tokens, db):  # type: ignore[no-untyped-def]
    receipt = _submit(server.client()).json()
    tip_id = db.scalar(select(Tip.id).where(Tip.ticket == receipt["ticket"]))
    clients = [server.client(tokens["dispatcher"]) for _ in range(2)]
    outcome = _race(
        [
            lambda: clients[0].post(
                f"/api/v1/staff/tips/{tip_id}/dispatch",
                json={"category": "tech", "subtype": "ditiaogang", "lead": "miit"},
            ),
            lambda: clients[1].post(f"/api/v1/staff/tips/{tip_id}/invalid", json={"reason": "重复骚扰"}),
        ]
    )
    assert outcome == [200, 409]
    db.rollback()  # end the test session's read snapshot to see what the server committed
    events = list(db.scalars(select(AuditEvent.action).where(AuditEvent.tip_id == tip_id)))
    assert len({"dispatched", "marked_invalid"} & set(events)) == 1


def test_a_department_signing_twice_at_once_signs_once(server, tokens, db):  # type: ignore[no-untyped-def]
    _submit(server.client())
    dispatcher = server.client(tokens["dispatcher"])
    tip = dispatcher.get("/api/v1/staff/tips").json()["tips"][0]
    aid = dispatcher.post(
        f"/api/v1/staff/tips/{tip['id']}/dispatch",
        json={"category": "tech", "subtype": "ditiaogang", "lead": "miit"},
    ).json()["assignments"][0]["id"]
    clients = [server.client(tokens["miit"]) for _ in range(4)]
    outcome = _race([partial(c.post, f"/api/v1/staff/assignments/{aid}/sign", json={}) for c in clients])
    assert outcome == [200, 409, 409, 409]
    db.rollback()
    assert db.scalar(select(func.count()).where(AuditEvent.action == "signed")) == 1


def test_health_and_openapi(server):  # type: ignore[no-untyped-def]
    client = server.client()
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and health["database"] == "ok"
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/v1/tips", "/api/v1/tips/{ticket}", "/api/v1/staff/tips/{tip_id}/dispatch"} <= set(paths)


def test_a_flood_from_one_address_is_rate_limited_with_a_clear_message(server, db):  # type: ignore[no-untyped-def]
    import time_machine

    from intake.ratelimit import SUBMIT

    # Start in the middle of an hour, so the counting window cannot roll over during the test.
    with time_machine.travel(datetime(2026, 11, 30, 2, 30, tzinfo=UTC), tick=True), server.client() as client:
        codes = [_submit(client).status_code for _ in range(SUBMIT.count)]
        refused = _submit(client)
    assert codes == [201] * SUBMIT.count
    assert refused.status_code == 429 and refused.json()["error"] == "rate_limited_submit"
    assert "频繁" in refused.json()["message"]
    db.rollback()
    assert db.scalar(select(func.count()).select_from(Tip)) == SUBMIT.count
    # The counters never store the address itself.
    keys = list(db.scalars(select(RateCounter.key)))
    assert keys and not any("127.0.0.1" in key for key in keys)


def test_framework_errors_speak_our_format(server, tokens):  # type: ignore[no-untyped-def]
    client = server.client(tokens["dispatcher"])
    not_json = client.post("/api/v1/tips", content=b"#q", headers={"content-type": "application/json"})
    assert not_json.status_code in (400, 422) and not_json.json()["error"] == "invalid_request"
    unknown = client.get("/api/v1/nothing-here")
    assert unknown.status_code == 404 and unknown.json() == {
        "error": "not_found",
        "message": "页面或接口不存在",
    }
    huge_id = client.get("/api/v1/staff/tips/39460158866915379047473517571342336")
    assert huge_id.status_code == 422 and huge_id.json()["error"] == "invalid_request"
    assert client.post("/api/v1/staff/assignments/0/sign", json={}).status_code == 422
    page = server.client().get("/no-such-page")
    assert page.status_code == 404 and "页面或接口不存在" in page.text
