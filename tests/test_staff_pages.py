"""The staff pages over real HTTP: who sees what, CSRF, the queue filters, escaping, audit of reporter views."""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import httpx
import pytest
from markupsafe import Markup
from sqlalchemy import select

from models.audit import AuditEvent
from models.base import utcnow
from models.tips import Tip
from models.workorders import Assignment
from tests.factories import PASSWORD, TZ, actor, make_tip, make_user, tech_order
from triage.queue import CHECK_BELOW_CONFIDENCE
from triage.web.highlight import highlight_evidence
from triage.workorders import dispatch

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
REPORTER_NAME, REPORTER_PHONE = "张秘密", "13912345678"


@pytest.fixture
def staff(db):  # type: ignore[no-untyped-def]
    users = {
        "dispatcher": make_user(db, "disp", "dispatcher"),
        "miit": make_user(db, "miit1", "department", "miit"),
        "eeb": make_user(db, "eeb1", "department", "eeb"),
        "bureau": make_user(db, "boss", "bureau"),
    }
    db.commit()
    return {key: actor(user) for key, user in users.items()}


def csrf_of(client: httpx.Client, page: str) -> str:
    found = CSRF.search(client.get(page, follow_redirects=True).text)
    assert found, f"no CSRF token on {page}"
    return found.group(1)


@contextmanager
def login(server, username: str, password: str = PASSWORD) -> Iterator[httpx.Client]:  # type: ignore[no-untyped-def]
    """A staff member's browser session: the login form's CSRF token, then the credentials."""
    with server.client() as client:
        answer = client.post(
            "/staff/login",
            data={"username": username, "password": password, "csrf_token": csrf_of(client, "/staff/login")},
        )
        assert answer.status_code == 303, answer.text
        yield client


def dispatched_to_miit(db, sessions, settings, staff, **tip_fields):  # type: ignore[no-untyped-def]
    receipt = make_tip(sessions, settings, **tip_fields)
    [assignment] = dispatch(db, staff["dispatcher"], receipt.tip_id, tech_order(co_handlers=()), TZ)
    db.commit()
    return receipt, assignment.id


# ---- who sees what ------------------------------------------------------------------------------


def test_a_department_cannot_open_another_departments_tip_or_assignment(
    server, db, sessions, settings, staff
):  # type: ignore[no-untyped-def]
    receipt, assignment_id = dispatched_to_miit(db, sessions, settings, staff)
    with login(server, "eeb1") as eeb, login(server, "miit1") as miit:
        assert miit.get(f"/staff/tips/{receipt.tip_id}").status_code == 200
        assert eeb.get(f"/staff/tips/{receipt.tip_id}").status_code == 404
        token = csrf_of(eeb, "/staff/inbox")
        signed = eeb.post(f"/staff/assignments/{assignment_id}/sign", data={"csrf_token": token})
        assert signed.status_code == 404
        assert receipt.ticket not in eeb.get("/staff/inbox").text
        assert eeb.get("/staff/queue").status_code == 403
    assert db.get(Assignment, assignment_id).status == "pending"


def test_a_department_never_sees_the_reporter_anywhere(server, db, sessions, settings, staff):  # type: ignore[no-untyped-def]
    receipt, _ = dispatched_to_miit(
        db, sessions, settings, staff, anonymous=False, name=REPORTER_NAME, contact=REPORTER_PHONE
    )
    with login(server, "disp") as dispatcher, login(server, "miit1") as miit:
        token = csrf_of(dispatcher, f"/staff/tips/{receipt.tip_id}")
        revealed = dispatcher.post(f"/staff/tips/{receipt.tip_id}/reporter", data={"csrf_token": token})
        assert REPORTER_PHONE in revealed.text and REPORTER_NAME in revealed.text  # the grep below can see it
        for page in ("/staff/inbox", f"/staff/tips/{receipt.tip_id}", "/staff/inbox?all=1"):
            html = miit.get(page).text
            assert receipt.ticket in html
            assert REPORTER_PHONE not in html and REPORTER_NAME not in html, page
            assert "查看举报人" not in html and "举报人信息" not in html.replace("举报人信息依法保密", "")
        token = csrf_of(miit, "/staff/inbox")
        assert (
            miit.post(f"/staff/tips/{receipt.tip_id}/reporter", data={"csrf_token": token}).status_code == 403
        )


def test_each_look_at_the_reporter_is_audited(server, db, sessions, settings, staff):  # type: ignore[no-untyped-def]
    receipt = make_tip(sessions, settings, anonymous=False, name=REPORTER_NAME, contact=REPORTER_PHONE)
    with login(server, "disp") as dispatcher:
        page = dispatcher.get(f"/staff/tips/{receipt.tip_id}").text
        assert REPORTER_PHONE not in page and "查看举报人" in page  # hidden until asked for
        token = csrf_of(dispatcher, f"/staff/tips/{receipt.tip_id}")
        for _ in range(2):
            shown = dispatcher.post(f"/staff/tips/{receipt.tip_id}/reporter", data={"csrf_token": token})
            assert shown.status_code == 200 and REPORTER_PHONE in shown.text
        assert "查看举报人信息" in shown.text  # the view is in the tip's history at once
    with sessions() as check:
        views = check.scalars(
            select(AuditEvent).where(
                AuditEvent.tip_id == receipt.tip_id, AuditEvent.action == "reporter_viewed"
            )
        ).all()
    assert [v.actor_user_id for v in views] == [staff["dispatcher"].user_id] * 2


def test_only_staff_who_may_see_the_tip_get_its_photos(server, db, sessions, settings, staff):  # type: ignore[no-untyped-def]
    import io

    from PIL import Image

    png = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(png, format="PNG")
    receipt, _ = dispatched_to_miit(db, sessions, settings, staff, photos=[png.getvalue()])
    [attachment] = db.get(Tip, receipt.tip_id).attachments
    url = f"/staff/attachments/{attachment.id}"
    with login(server, "miit1") as miit, login(server, "eeb1") as eeb, server.client() as anonymous:
        photo = miit.get(url)
        assert photo.status_code == 200 and photo.headers["content-type"] == "image/png"
        assert photo.headers["cache-control"] == "private, no-store"
        assert url in miit.get(f"/staff/tips/{receipt.tip_id}").text
        assert eeb.get(url).status_code == 404
        assert anonymous.get(url).status_code == 303  # to the login page


# ---- forms --------------------------------------------------------------------------------------


def test_posts_without_the_right_csrf_token_are_refused(server, db, sessions, settings, staff):  # type: ignore[no-untyped-def]
    receipt = make_tip(sessions, settings)
    form = {"kind": "tech/ditiaogang", "lead": "miit", "county_code": "441622"}
    with login(server, "disp") as dispatcher:
        missing = dispatcher.post(f"/staff/tips/{receipt.tip_id}/dispatch", data=form)
        wrong = dispatcher.post(
            f"/staff/tips/{receipt.tip_id}/dispatch", data={**form, "csrf_token": "forged"}
        )
        assert missing.status_code == wrong.status_code == 403
        assert "页面已过期" in wrong.text
    with server.client() as anonymous:
        no_token_login = anonymous.post("/staff/login", data={"username": "disp", "password": PASSWORD})
        assert no_token_login.status_code == 403
    db.expire_all()
    assert db.get(Tip, receipt.tip_id).status == "received"


def test_a_stale_dispatch_form_gets_the_conflict_page(server, db, sessions, settings, staff):  # type: ignore[no-untyped-def]
    receipt = make_tip(sessions, settings)
    with login(server, "disp") as dispatcher:
        page = dispatcher.get(f"/staff/tips/{receipt.tip_id}").text
        version = re.search(r'name="version" value="(\d+)"', page).group(1)  # type: ignore[union-attr]
        token = CSRF.search(page).group(1)  # type: ignore[union-attr]
        form = {"csrf_token": token, "version": version, "kind": "tech/ditiaogang", "lead": "miit"}
        # Another dispatcher acts first (simulated by a transfer through the service).
        from triage.workorders import transfer

        transfer(db, staff["dispatcher"], receipt.tip_id, "119")
        db.commit()
        stale = dispatcher.post(f"/staff/tips/{receipt.tip_id}/dispatch", data=form)
    assert stale.status_code == 409
    assert "已被他人更新" in stale.text


def test_the_dispatcher_dispatches_from_the_detail_page_and_sees_the_notice(
    server, db, sessions, settings, staff
):  # type: ignore[no-untyped-def]
    receipt = make_tip(sessions, settings)
    with login(server, "disp") as dispatcher:
        page = dispatcher.get(f"/staff/tips/{receipt.tip_id}").text
        assert "待人工分拣" not in page and 'id="dispatch-form"' in page
        assert 'id="triage-pending"' in page  # no triage engine in this app: the suggestion never comes
        routed = dispatcher.get(
            "/staff/dispatch/departments", params={"kind": "tech/ditiaogang", "county_code": "441622"}
        ).text
        assert re.search(r'<option value="miit" selected>', routed)
        assert re.search(r'value="gov-441622" checked', routed)
        answer = dispatcher.post(
            f"/staff/tips/{receipt.tip_id}/dispatch",
            data={
                "csrf_token": CSRF.search(page).group(1),  # type: ignore[union-attr]
                "version": "1",
                "kind": "tech/ditiaogang",
                "lead": "miit",
                "co_handlers": ["gov-441622", "miit"],
                "county_code": "441622",
            },
        )
        assert answer.status_code == 303 and answer.headers["location"] == f"/staff/tips/{receipt.tip_id}"
        detail = dispatcher.get(answer.headers["location"]).text
        assert "已派单，主办单位：河源市工业和信息化局" in detail
        assert 'id="triage-pending"' not in detail  # dispatched: no suggestion is awaited any more
        assert "已派单，主办单位" not in dispatcher.get(answer.headers["location"]).text  # shown once
    with sessions() as check:
        codes = check.scalars(select(Assignment.department_code).where(Assignment.tip_id == receipt.tip_id))
        assert sorted(codes) == ["gov-441622", "miit"]


# ---- the queue ----------------------------------------------------------------------------------


def test_the_queue_filters_by_status_category_county_and_overdue(server, db, sessions, settings, staff):  # type: ignore[no-untyped-def]
    env = make_tip(sessions, settings, text="东源县仙塘镇一家化工厂夜里偷排废水，河水发黑发臭")
    steel = make_tip(sessions, settings)
    late = make_tip(sessions, settings, text="连平县一家铸造厂用中频炉炼地条钢，已经举报过很久了")
    failed = make_tip(sessions, settings, text="有个厂子晚上很吵，不知道在干什么东西")
    for receipt, category, subtype, county in (
        (env, "env", "emission", "441625"),
        (steel, "tech", "ditiaogang", "441622"),
        (late, "tech", "ditiaogang", "441623"),
    ):
        tip = db.get(Tip, receipt.tip_id)
        tip.category, tip.subtype, tip.county_code, tip.triage_state = category, subtype, county, "done"
    db.get(Tip, env.tip_id).analysis = {"category": "env", "confidence": CHECK_BELOW_CONFIDENCE / 2}
    db.get(Tip, steel.tip_id).analysis = {"category": "tech", "confidence": CHECK_BELOW_CONFIDENCE}
    db.get(Tip, late.tip_id).due_at = utcnow() - timedelta(days=1)
    db.get(Tip, failed.tip_id).triage_state = "failed"
    db.commit()
    everything = {env.ticket, steel.ticket, late.ticket, failed.ticket}

    def tickets(client: httpx.Client, **params: str) -> set[str]:
        html = client.get("/staff/queue", params=params).text
        return set(re.findall(r'data-ticket="([^"]+)"', html)) & everything

    with login(server, "disp") as dispatcher:
        assert tickets(dispatcher) == everything
        assert tickets(dispatcher, category="tech") == {steel.ticket, late.ticket}
        assert tickets(dispatcher, county="441625") == {env.ticket}
        assert tickets(dispatcher, overdue="1") == {late.ticket}
        assert tickets(dispatcher, status="closed") == set()
        assert tickets(dispatcher, check="1") == {env.ticket}  # the one suggestion below the 请核对 line
        html = dispatcher.get("/staff/queue").text
        assert "待人工分拣" in html and "超期" in html and "环保/超标排放" in html
        assert html.count(">请核对</span>") == 1
    with login(server, "boss") as bureau:
        assert tickets(bureau, category="env") == {env.ticket}


# ---- evidence highlighting ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "evidence", "html"),
    [
        (
            "半夜开中频炉炼钢",
            [{"text": "中频炉", "start": 3, "end": 6, "for": "subtype"}],
            "半夜开<mark>中频炉</mark>炼钢",
        ),
        (
            "a<b>中频炉",
            [{"text": "中频炉", "start": 4, "end": 7, "for": "subtype"}],
            "a&lt;b&gt;<mark>中频炉</mark>",
        ),
        ("x<i>y", [{"text": "<i>", "start": 1, "end": 4, "for": "category"}], "x<mark>&lt;i&gt;</mark>y"),
        (
            "龙川县炼钢",
            [
                {"text": "龙川县", "start": 0, "end": 3, "for": "county"},
                {"text": "川县炼", "start": 1, "end": 4, "for": "subtype"},
            ],
            "<mark>龙</mark><mark>川县</mark><mark>炼</mark>钢",
        ),
        (
            "偏移错了的中频炉",
            [{"text": "中频炉", "start": 0, "end": 3, "for": "subtype"}],
            "偏移错了的<mark>中频炉</mark>",
        ),
        ("没有依据", [{"text": "炼钢", "start": 99, "end": 120, "for": "category"}, "junk"], "没有依据"),
        ("没有分析", None, "没有分析"),
    ],
    ids=[
        "plain",
        "escapes-around",
        "escapes-inside",
        "overlap",
        "wrong-offsets-found-by-text",
        "unplaceable",
        "none",
    ],
)
def test_highlight_evidence_marks_spans_and_escapes_everything_else(text, evidence, html):  # type: ignore[no-untyped-def]
    result = highlight_evidence(text, evidence)
    assert isinstance(result, Markup)
    assert re.sub(r"<mark [^>]*>", "<mark>", str(result)) == html


def test_a_tip_with_html_in_its_text_renders_escaped_with_evidence_marked(
    server, db, sessions, settings, staff
):  # type: ignore[no-untyped-def]
    text = '<script>alert("x")</script>工厂偷开中频炉<img src=x onerror=alert(1)>'
    receipt = make_tip(sessions, settings, text=text, enterprise_name="<b>假企业</b>")
    start = text.index("中频炉")
    tip = db.get(Tip, receipt.tip_id)
    tip.analysis = {
        "category": "tech",
        "subtype": "ditiaogang",
        "urgent": False,
        "confidence": 0.91,
        "model": "test",
        "evidence": [
            {"text": "中频炉", "start": start, "end": start + 3, "for": "subtype"},
            {"text": "<script>", "start": 0, "end": 8, "for": "category"},
        ],
        "county_code": None,
        "lead_department": "miit",
        "co_handlers": ["drc"],
        "enterprise": None,
        "duplicates": [{"id": 999999, "reason": "similar_text"}, {"tip_id": "nonsense"}],
    }
    tip.triage_state = "done"
    db.commit()
    with login(server, "disp") as dispatcher:
        html = dispatcher.get(f"/staff/tips/{receipt.tip_id}").text
    assert "<script>alert" not in html and "<img src=x" not in html and "<b>假企业" not in html
    assert (
        '<mark data-for="category" title="类别依据">&lt;script&gt;</mark>alert(&#34;x&#34;)&lt;/script&gt;'
        in html
    )
    assert re.search(r'<mark data-for="subtype" title="子类依据">中频炉</mark>', html)
    assert "置信度 91%" in html and "采纳建议并派单" in html


# ---- login --------------------------------------------------------------------------------------


def test_five_wrong_passwords_lock_the_account_with_a_chinese_message(server, db, staff):  # type: ignore[no-untyped-def]
    with server.client() as client:
        for _ in range(5):
            token = csrf_of(client, "/staff/login")
            wrong = client.post(
                "/staff/login", data={"username": "disp", "password": "not-the-password", "csrf_token": token}
            )
            assert wrong.status_code == 401 and "用户名或密码错误" in wrong.text
        token = csrf_of(client, "/staff/login")
        right = client.post(
            "/staff/login", data={"username": "disp", "password": PASSWORD, "csrf_token": token}
        )
    assert right.status_code == 401
    assert "登录失败次数过多，账户已暂时锁定" in right.text


def test_pages_need_a_login_and_the_right_role(server, db, staff):  # type: ignore[no-untyped-def]
    with server.client() as anonymous:
        to_login = anonymous.get("/staff/queue")
        assert to_login.status_code == 303 and to_login.headers["location"].startswith("/staff/login")
    with login(server, "miit1") as miit:
        assert miit.get("/staff/overview").status_code == 403
        assert miit.get("/staff/phone").status_code == 403
        assert miit.get("/staff").headers["location"] == "/staff/inbox"
    with login(server, "boss") as bureau:
        overview = bureau.get("/staff/overview")
        assert overview.status_code == 200 and "超期交办单" in overview.text


# ---- phone --------------------------------------------------------------------------------------


def test_an_operator_registers_a_phone_call_and_reads_out_ticket_and_code(server, db, staff):  # type: ignore[no-untyped-def]
    with login(server, "disp") as dispatcher:
        token = csrf_of(dispatcher, "/staff/phone")
        too_short = dispatcher.post(
            "/staff/phone", data={"csrf_token": token, "text": "钢厂", "name": "李四"}
        )
        assert (
            too_short.status_code == 422
            and "问题描述太短" in too_short.text
            and 'value="李四"' in too_short.text
        )
        answer = dispatcher.post(
            "/staff/phone",
            data={
                "csrf_token": token,
                "text": "和平县一家钢厂半夜偷偷生产，烟很大",
                "place": "和平县",
                "name": "李四",
                "contact": "13700001111",
            },
        )
    assert answer.status_code == 201
    ticket = re.search(r'id="ticket">([^<]+)<', answer.text).group(1)  # type: ignore[union-attr]
    assert re.search(r'id="query-code">[A-Z0-9]{10}<', answer.text)
    tip = db.scalar(select(Tip).where(Tip.ticket == ticket))
    assert tip is not None and tip.channel == "phone" and tip.reporter.contact == "13700001111"
    received = db.scalar(select(AuditEvent).where(AuditEvent.tip_id == tip.id))
    assert received is not None and received.actor_user_id == staff["dispatcher"].user_id


def test_the_dispatchers_other_decisions_and_a_departments_return(server, db, sessions, settings, staff):  # type: ignore[no-untyped-def]
    from triage import workorders as wo

    main, duplicate, emergency, spam = (make_tip(sessions, settings) for _ in range(4))
    returned, returned_id = dispatched_to_miit(db, sessions, settings, staff)
    unhappy, unhappy_id = dispatched_to_miit(db, sessions, settings, staff)
    wo.sign(db, staff["miit"], unhappy_id)
    wo.reply(db, staff["miit"], unhappy_id, "已核查，未发现问题")
    wo.approve(db, staff["dispatcher"], unhappy_id)
    wo.record_satisfaction(db, staff["dispatcher"], unhappy.tip_id, "不满意")
    db.commit()
    with login(server, "disp") as dispatcher, login(server, "miit1") as miit:
        token = csrf_of(dispatcher, "/staff/queue")

        def post(path: str, **form: str) -> httpx.Response:
            return dispatcher.post(path, data={"csrf_token": token, **form})

        assert post(f"/staff/tips/{duplicate.tip_id}/merge", into_ticket=main.ticket).status_code == 303
        assert post(f"/staff/tips/{emergency.tip_id}/transfer", target="119").status_code == 303
        assert (
            post(f"/staff/tips/{spam.tip_id}/invalid", reason="").status_code == 422
        )  # a reason is required
        assert post(f"/staff/tips/{spam.tip_id}/invalid", reason="广告信息").status_code == 303
        reopen_page = dispatcher.get(f"/staff/tips/{unhappy.tip_id}").text
        assert 'id="reopen"' in reopen_page and "回访不满意" in reopen_page
        assert post(f"/staff/tips/{unhappy.tip_id}/reopen", reason="市民反映仍在生产").status_code == 303
        assert "已重办" in dispatcher.get(f"/staff/tips/{unhappy.tip_id}").text

        inbox_token = csrf_of(miit, "/staff/inbox")
        back = miit.post(
            f"/staff/assignments/{returned_id}/return",
            data={
                "csrf_token": inbox_token,
                "reason": "属于环保部门职责",
                "back": f"/staff/tips/{returned.tip_id}",
            },
        )
        assert back.status_code == 303 and back.headers["location"] == "/staff/inbox"
        assert "已退回" in miit.get("/staff/inbox").text
        queue = dispatcher.get("/staff/queue").text
    with sessions() as check:
        states = {t.id: t.status for t in check.scalars(select(Tip))}
    assert states[duplicate.tip_id] == "merged" and states[emergency.tip_id] == "transferred"
    assert states[spam.tip_id] == "invalid"
    assert states[unhappy.tip_id] == states[returned.tip_id] == "received"
    assert returned.ticket in queue and unhappy.ticket in queue and duplicate.ticket not in queue
