"""Stories of a work order through the services, on SQLite and PostgreSQL."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from models.audit import AuditEvent
from models.base import utcnow
from models.outbox import OutboxMessage
from models.tips import Tip, TipLabel
from models.workorders import Assignment
from tests.factories import TZ, actor, make_tip, make_user, tech_order
from triage import workorders as wo
from triage.accounts import reveal_reporter
from triage.errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationFailed
from triage.queue import department_inbox, tip_detail


@pytest.fixture
def staff(db):  # type: ignore[no-untyped-def]
    users = {
        "dispatcher": make_user(db, "disp", "dispatcher"),
        "miit": make_user(db, "miit1", "department", "miit"),
        "gov": make_user(db, "gov1", "department", "gov-441622"),
        "eeb": make_user(db, "eeb1", "department", "eeb"),
    }
    db.commit()
    return {k: actor(u) for k, u in users.items()}


def _dispatch(db, staff, receipt, **order):  # type: ignore[no-untyped-def]
    assignments = wo.dispatch(db, staff["dispatcher"], receipt.tip_id, tech_order(**order), TZ)
    db.commit()
    return {a.department_code: a.id for a in assignments}


def test_a_tip_goes_from_receipt_to_closure(db, sessions, settings, staff):  # type: ignore[no-untyped-def]
    receipt = make_tip(sessions, settings)
    ids = _dispatch(db, staff, receipt)
    tip = db.get(Tip, receipt.tip_id)
    assert tip.status == "dispatched" and tip.due_at is not None
    for dept in ("miit", "gov"):
        wo.sign(db, staff[dept], ids[{"miit": "miit", "gov": "gov-441622"}[dept]])
    db.commit()
    assert db.get(Tip, receipt.tip_id).status == "in_progress"

    wo.request_extension(db, staff["miit"], ids["miit"], 10, "需要检测机构出具报告")
    db.commit()
    before = db.get(Assignment, ids["miit"]).due_at
    wo.decide_extension(db, staff["dispatcher"], ids["miit"], True, TZ)
    db.commit()
    after = db.get(Assignment, ids["miit"]).due_at
    assert after > before + timedelta(days=10)

    wo.reply(db, staff["miit"], ids["miit"], "现场核查属实，已断电查封中频炉2台")
    db.commit()
    assert db.get(Tip, receipt.tip_id).status == "in_progress"  # the co-handler has not replied yet
    wo.reply(db, staff["gov"], ids["gov-441622"], "已配合查封")
    db.commit()
    assert db.get(Tip, receipt.tip_id).status == "replied"

    wo.reject_reply(db, staff["dispatcher"], ids["miit"], "请补充设备去向")
    db.commit()
    assert db.get(Tip, receipt.tip_id).status == "in_progress"
    wo.reply(db, staff["miit"], ids["miit"], "中频炉2台已拆除，由县政府监督销毁")
    wo.approve(db, staff["dispatcher"], ids["miit"])
    db.commit()
    assert db.get(Tip, receipt.tip_id).status == "replied"
    wo.approve(db, staff["dispatcher"], ids["gov-441622"])
    db.commit()
    tip = db.get(Tip, receipt.tip_id)
    assert tip.status == "closed"
    assert tip.result_summary == "中频炉2台已拆除，由县政府监督销毁"

    wo.record_satisfaction(db, actor_citizen(), tip.id, "满意")
    db.commit()
    with pytest.raises(InvalidTransition):
        wo.record_satisfaction(db, actor_citizen(), tip.id, "不满意")
    db.rollback()

    actions = list(
        db.scalars(select(AuditEvent.action).where(AuditEvent.tip_id == tip.id).order_by(AuditEvent.id))
    )
    assert actions[:2] == ["received", "dispatched"]
    assert {"signed", "extension_requested", "extension_granted", "reply_rejected", "closed", "rated"} <= set(
        actions
    )
    kinds = set(db.scalars(select(OutboxMessage.kind)))
    assert {"assignment_new", "tip_dispatched", "tip_closed", "tip_extended", "reply_rejected"} <= kinds


def actor_citizen():  # type: ignore[no-untyped-def]
    from triage.actors import CITIZEN

    return CITIZEN


def test_a_department_cannot_see_or_touch_another_departments_assignment(db, sessions, settings, staff):  # type: ignore[no-untyped-def]
    receipt = make_tip(sessions, settings)
    ids = _dispatch(db, staff, receipt)
    with pytest.raises(NotFound):
        wo.sign(db, staff["eeb"], ids["miit"])
    db.rollback()
    with pytest.raises(NotFound):
        tip_detail(db, staff["eeb"], receipt.tip_id)
    assert department_inbox(db, staff["eeb"]) == []
    assert [a.department_code for a in department_inbox(db, staff["miit"])] == ["miit"]
    with pytest.raises(NotFound):  # the lead may not sign for the co-handler either
        wo.sign(db, staff["miit"], ids["gov-441622"])


def test_only_dispatchers_see_the_reporter_and_each_view_is_audited(db, sessions, settings, staff):  # type: ignore[no-untyped-def]
    receipt = make_tip(sessions, settings, anonymous=False, name="张三", contact="13800000000")
    _dispatch(db, staff, receipt)
    with pytest.raises(Forbidden):
        reveal_reporter(db, staff["miit"], receipt.tip_id)
    identity = reveal_reporter(db, staff["dispatcher"], receipt.tip_id)
    db.commit()
    assert identity.contact == "13800000000"
    views = db.scalar(select(func.count()).where(AuditEvent.action == "reporter_viewed"))
    assert views == 1
    history = tip_detail(db, staff["miit"], receipt.tip_id).history
    assert "reporter_viewed" not in [e.action for e in history]


def test_illegal_transitions_are_refused(db, sessions, settings, staff):  # type: ignore[no-untyped-def]
    receipt = make_tip(sessions, settings)
    ids = _dispatch(db, staff, receipt)
    with pytest.raises(InvalidTransition):
        wo.reply(db, staff["miit"], ids["miit"], "未签收就反馈")
    db.rollback()
    with pytest.raises(InvalidTransition):
        wo.approve(db, staff["dispatcher"], ids["miit"])
    db.rollback()
    with pytest.raises(InvalidTransition):
        wo.dispatch(db, staff["dispatcher"], receipt.tip_id, tech_order(), TZ)
    db.rollback()
    with pytest.raises(Forbidden):
        wo.mark_invalid(db, staff["miit"], receipt.tip_id, "不是我们的事")
    db.rollback()
    wo.request_extension(db, staff["miit"], ids["miit"], 5, "原因")
    db.commit()
    wo.decide_extension(db, staff["dispatcher"], ids["miit"], False, TZ, "理由不充分")
    db.commit()
    with pytest.raises(InvalidTransition):  # one extension per assignment
        wo.request_extension(db, staff["miit"], ids["miit"], 5, "再延一次")
    db.rollback()
    with pytest.raises(ValidationFailed):
        wo.request_extension(db, staff["gov"], ids["gov-441622"], 16, "超过15个工作日")


def test_a_stale_version_is_a_conflict(db, sessions, settings, staff):  # type: ignore[no-untyped-def]
    receipt = make_tip(sessions, settings)
    seen = db.get(Tip, receipt.tip_id).version
    wo.mark_invalid(db, staff["dispatcher"], receipt.tip_id, "广告", expected_version=seen)
    db.commit()
    with pytest.raises(Conflict):
        wo.dispatch(db, staff["dispatcher"], receipt.tip_id, tech_order(), TZ, expected_version=seen)


def test_a_returned_lead_sends_the_tip_back_to_the_queue(db, sessions, settings, staff):  # type: ignore[no-untyped-def]
    receipt = make_tip(sessions, settings)
    ids = _dispatch(db, staff, receipt)
    wo.return_(db, staff["miit"], ids["miit"], "属于环保问题", TZ)
    db.commit()
    tip = db.get(Tip, receipt.tip_id)
    assert tip.status == "received"
    assert db.get(Assignment, ids["gov-441622"]).status == "cancelled"
    again = wo.dispatch(
        db, staff["dispatcher"], tip.id, tech_order(category="env", subtype="emission", lead="eeb"), TZ
    )
    db.commit()
    assert {a.round for a in again} == {2}
    assert db.scalar(select(func.count()).select_from(TipLabel)) == 2


def test_returning_after_the_window_is_refused(db, sessions, settings, staff):  # type: ignore[no-untyped-def]
    receipt = make_tip(sessions, settings)
    ids = _dispatch(db, staff, receipt)
    with pytest.raises(InvalidTransition):
        wo.return_(db, staff["miit"], ids["miit"], "太晚了", TZ, now=utcnow() + timedelta(days=10))


def test_merge_and_invalid(db, sessions, settings, staff):  # type: ignore[no-untyped-def]
    first = make_tip(sessions, settings)
    second = make_tip(sessions, settings)
    wo.merge(db, staff["dispatcher"], second.tip_id, first.ticket)
    db.commit()
    assert db.get(Tip, second.tip_id).merged_into_id == first.tip_id
    with pytest.raises(ValidationFailed):
        wo.merge(db, staff["dispatcher"], first.tip_id, first.ticket)


def test_audit_events_cannot_be_changed_or_deleted(db, sessions, settings):  # type: ignore[no-untyped-def]
    make_tip(sessions, settings)
    with pytest.raises(Exception, match="append-only"):
        db.execute(text("UPDATE audit_events SET action = 'forged'"))
        db.flush()
    db.rollback()
    with pytest.raises(Exception, match="append-only"):
        db.execute(text("DELETE FROM audit_events"))
        db.flush()
    db.rollback()
    assert db.scalar(select(func.count()).select_from(AuditEvent)) == 1


def test_a_reopened_tip_gets_a_new_round_of_deadlines(db, sessions, settings, staff):  # type: ignore[no-untyped-def]
    receipt = make_tip(sessions, settings)
    energy = {"category": "energy", "subtype": "energy_overuse"}  # has an enterprise rectification window
    ids = _dispatch(db, staff, receipt, **energy)
    for dept, code in (("miit", "miit"), ("gov", "gov-441622")):
        wo.sign(db, staff[dept], ids[code])
        wo.reply(db, staff[dept], ids[code], "已核查处理")
        wo.approve(db, staff["dispatcher"], ids[code])
    db.commit()
    tip = db.get(Tip, receipt.tip_id)
    first_due, rectification = tip.due_at, tip.rectification_due
    assert rectification is not None
    wo.record_satisfaction(db, actor_citizen(), tip.id, "不满意")
    db.commit()

    later = utcnow() + timedelta(days=60)  # the first round's dates are long past by now
    wo.reopen(db, staff["dispatcher"], tip.id, "市民反映仍在生产", TZ, now=later)
    db.commit()
    tip = db.get(Tip, receipt.tip_id)
    assert tip.status == "received" and tip.reopened_at == later
    assert tip.due_at > later > first_due  # back in the queue, not overdue at once

    assignments = wo.dispatch(db, staff["dispatcher"], tip.id, tech_order(**energy), TZ, now=later)
    db.commit()
    tip = db.get(Tip, receipt.tip_id)
    # A full completion period from the reopening (15 working days, i.e. three weeks or more).
    assert all(a.due_at >= later + timedelta(days=20) for a in assignments if a.lead)
    assert tip.due_at >= later + timedelta(days=20)
    assert tip.rectification_due == rectification  # the enterprise's legal window does not restart
