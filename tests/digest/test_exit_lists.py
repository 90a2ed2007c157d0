"""A department's reply proposes putting an enterprise on the 黄牌 list, the bureau approves it, the public
page shows it; every step is audited."""

from collections.abc import Iterator
from datetime import date, datetime

import pytest
import time_machine
from jinja2 import FileSystemLoader
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from digest import exit_lists, pages
from digest.exit_lists import Proposal
from digest.render import TEMPLATES_DIR
from hotline.app import create_app
from hotline.settings import Settings
from models.audit import AuditEvent
from models.db import unit_of_work
from models.register import Enterprise
from models.workorders import Assignment
from tests.conftest import LiveServer, serve_app
from tests.digest.seed import enterprise
from tests.factories import TZ, actor, make_tip, make_token, make_user, tech_order
from triage import workorders as wo
from triage.actors import Actor
from triage.errors import Conflict, Forbidden, NotFound, ValidationFailed

USCC = "91441622MA4ULIST01"


@pytest.fixture
def story(settings: Settings, sessions: sessionmaker[Session], db: Session) -> dict[str, object]:
    """A tip about 龙川县恒达钢铁 dispatched to miit, who signed for it; a closed (红牌) firm in the register."""
    steel = enterprise(db, USCC, "龙川县恒达钢铁有限公司", "441622", "龙川县", town="老隆镇")
    enterprise(
        db,
        "91441602MA4ULIST02",
        "源城区旧城水泥厂",
        "441602",
        "源城区",
        exit_list="红牌",
        exit_list_date=date(2026, 3, 1),
    )
    users = {
        "dispatcher": make_user(db, "disp", "dispatcher"),
        "miit": make_user(db, "miit1", "department", "miit"),
        "eeb": make_user(db, "eeb1", "department", "eeb"),
        "bureau": make_user(db, "boss", "bureau"),
    }
    db.commit()
    receipt = make_tip(sessions, settings)
    with unit_of_work(sessions) as session:
        created = wo.dispatch(
            session, actor(users["dispatcher"]), receipt.tip_id, tech_order(enterprise_id=steel.id), TZ
        )
        wo.sign(session, actor(users["miit"]), created[0].id)
        lead_id = created[0].id
    return {"users": users, "actors": {k: actor(u) for k, u in users.items()}, "assignment": lead_id}


def actors(story: dict[str, object]) -> dict[str, Actor]:
    return story["actors"]  # type: ignore[return-value]


def yellow(assignment_id: int | None = None, **kw: object) -> Proposal:
    fields: dict[str, object] = {
        "uscc": USCC,
        "target_list": "黄牌",
        "reason": "现场核查：中频炉未拆除，责令限期整改",
        "rectify_by": date(2027, 5, 31),
        "assignment_id": assignment_id,
    }
    fields.update(kw)
    return Proposal(**fields)  # type: ignore[arg-type]


def test_a_proposal_from_a_reply_is_approved_by_the_bureau_and_audited(
    sessions: sessionmaker[Session], db: Session, story: dict[str, object]
) -> None:
    a = actors(story)
    assignment_id = story["assignment"]
    assert isinstance(assignment_id, int)
    with unit_of_work(sessions) as session:
        change = exit_lists.propose(session, a["miit"], yellow(assignment_id))
        change_id = change.id
    with unit_of_work(sessions) as session, pytest.raises(Forbidden):
        exit_lists.decide(session, a["dispatcher"], change_id, True)
    with (
        time_machine.travel(datetime(2026, 12, 2, 10, 0, tzinfo=TZ), tick=False),
        unit_of_work(sessions) as session,
    ):
        exit_lists.decide(session, a["bureau"], change_id, True, "同意")

    db.expire_all()
    firm = db.scalars(select(Enterprise).where(Enterprise.uscc == USCC)).one()
    assert (firm.exit_list, firm.exit_list_date) == ("黄牌", date(2026, 12, 2))
    tip_id = db.get(Assignment, assignment_id).tip_id  # type: ignore[union-attr]
    events = db.scalars(
        select(AuditEvent).where(AuditEvent.action.like("exit_list_%")).order_by(AuditEvent.id)
    ).all()
    assert [(e.action, e.tip_id, e.actor) for e in events] == [
        ("exit_list_proposed", tip_id, f"user:{a['miit'].user_id}"),
        ("exit_list_approved", tip_id, f"user:{a['bureau'].user_id}"),
    ]
    assert events[1].detail["previous"] == "" and events[1].detail["target"] == "黄牌"

    lists = exit_lists.public_lists(db)
    assert [(e.name, e.listed_on, e.rectify_by, e.from_work_order) for e in lists.yellow] == [
        ("龙川县恒达钢铁有限公司", date(2026, 12, 2), date(2027, 5, 31), True)
    ]
    assert [(e.name, e.listed_on) for e in lists.red] == [("源城区旧城水泥厂", date(2026, 3, 1))]


def test_proposals_are_checked_before_they_reach_the_bureau(
    sessions: sessionmaker[Session], story: dict[str, object]
) -> None:
    a = actors(story)
    assignment_id = story["assignment"]
    assert isinstance(assignment_id, int)
    with unit_of_work(sessions) as session, pytest.raises(ValidationFailed) as missing_date:
        exit_lists.propose(session, a["miit"], yellow(assignment_id, rectify_by=None))
    assert missing_date.value.message == "列入黄牌须填写整改期限"
    with unit_of_work(sessions) as session, pytest.raises(NotFound):
        exit_lists.propose(session, a["eeb"], yellow(assignment_id))  # not eeb's assignment
    with unit_of_work(sessions) as session, pytest.raises(Forbidden):
        exit_lists.propose(session, a["dispatcher"], yellow())
    with unit_of_work(sessions) as session, pytest.raises(ValidationFailed):
        exit_lists.propose(session, a["miit"], yellow(uscc="91441622MA4UNOBODY"))
    with unit_of_work(sessions) as session:
        change_id = exit_lists.propose(session, a["miit"], yellow(assignment_id)).id
    with unit_of_work(sessions) as session, pytest.raises(Conflict):
        exit_lists.propose(session, a["miit"], yellow(target_list="红牌"))
    with unit_of_work(sessions) as session, pytest.raises(ValidationFailed) as no_reason:
        exit_lists.decide(session, a["bureau"], change_id, False)
    assert no_reason.value.message == "不批准时请填写理由"
    with unit_of_work(sessions) as session:
        exit_lists.decide(session, a["bureau"], change_id, False, "证据不足")
    with unit_of_work(sessions) as session:
        assert exit_lists.public_lists(session).yellow == []
        assert [c.status for c in exit_lists.list_proposals(session, a["miit"])] == ["rejected"]
        assert exit_lists.list_proposals(session, a["eeb"]) == []


@pytest.fixture
def list_server(settings: Settings) -> Iterator[LiveServer]:
    app = create_app(settings, analyser=None)
    if not any(getattr(r, "path", "") == "/lists" for r in app.routes):
        app.include_router(pages.router)
        app.state.templates.env.loader.loaders.append(FileSystemLoader(str(TEMPLATES_DIR)))
    yield from serve_app(app)


def test_the_public_page_shows_both_lists_and_staff_propose_and_decide_through_the_pages(
    db: Session, story: dict[str, object], list_server: LiveServer
) -> None:
    users = story["users"]
    assert isinstance(users, dict)
    miit, bureau = make_token(db, users["miit"]), make_token(db, users["bureau"])
    db.commit()
    with list_server.client(miit) as client:
        sent = client.post(
            "/staff/lists/proposals",
            data={"uscc": USCC, "target_list": "黄牌", "reason": "限期整改", "rectify_by": "2027-05-31"},
        )
        assert sent.status_code == 303
        page = client.get("/staff/lists/proposals")
        assert "龙川县恒达钢铁有限公司" in page.text and "待审批" in page.text
    change_id = exit_lists.list_proposals(db, actors(story)["bureau"])[0].id
    with list_server.client(miit) as client:
        assert (
            client.post(f"/staff/lists/proposals/{change_id}/decide", data={"approve": "true"}).status_code
            == 403
        )
    with list_server.client(bureau) as client:
        assert (
            client.post(f"/staff/lists/proposals/{change_id}/decide", data={"approve": "true"}).status_code
            == 303
        )
    with list_server.client() as public:
        page = public.get("/lists")
        assert page.status_code == 200
        assert "黄牌企业（限期整改）（1家）" in page.text and "2027-05-31" in page.text
        assert "红牌企业（已关停）（1家）" in page.text and "源城区旧城水泥厂" in page.text
        only_yuancheng = public.get("/lists", params={"county": "441602"})
        assert "龙川县恒达钢铁有限公司" not in only_yuancheng.text
