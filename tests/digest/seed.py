"""A seeded week (2026-W48, 23–29 November, Asia/Shanghai) whose digest figures are worked out by hand.

Rows are written directly with exact timestamps, so each figure can be checked against the story below:

previous week (W47): P1 env/441622/web about E1, P2 tech/441602/telegram.
this week (W48):
  T1 tech/ditiaogang 441622 web, E1 (红牌 since 2026-06-01), urgent; received Mon 09:00, dispatched 11:00
     (2 h), closed Wed 09:00 (48 h), rated 满意 Thu.  A1 miit lead: signed in time, replied in time.
     A2 gov-441622: signed late, replied late (Sat, after its Fri due date).
  T2 tech/ditiaogang 441622 telegram, E1; received Tue 10:00, dispatched 14:00 (4 h).
     A3 miit lead: never signed (sign-off due Wed), completion due in December.
  T3 env/emission 441621 phone, E2; received Wed 08:00, dispatched 09:00 (1 h), closed Sat 08:00 (72 h),
     rated 不满意 Sat.  A4 eeb lead: in time.  A5 gov-441621: returned (counts nowhere).
  T4 quality/unlicensed 441602 web; received Thu 15:00, waits in the queue.
  T5 energy/energy_overuse 441622 web, E2; received Sun 23:30 (still this week).
  T6 received next Monday 00:30: not this week.
older:
  T0 env/emission 441625 web, received 9 Nov 10:00, closed Fri 27 Nov 10:00 (432 h), rated 基本满意 Fri.
     A6 eeb lead: due Thu 26 Nov, replied Fri: late.
  TX quality/substandard 441625, received 2 Nov. A7 amr lead: due 20 Nov, still open (9.0 days overdue at
     the end of the week).  A8 gov-441625: due Wed 25 Nov, still open (4.0 days overdue).
list changes: E2 → 黄牌 (rectify by 2027-05-31) approved Thu; one approved in W47; one still proposed.
"""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from models.audit import AuditEvent
from models.digest import ExitListChange
from models.register import Enterprise
from models.tips import Reporter, Tip, TipLabel, TriageState
from models.workorders import Assignment
from tests.factories import TZ
from triage.queue import CHECK_BELOW_CONFIDENCE

WEEK = "2026-W48"


def at(day: int, hour: int, minute: int = 0, second: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=TZ)


def end_of(day: int, month: int = 11) -> datetime:
    return at(day, 23, 59, 59, month)


@dataclass
class Seeded:
    tips: dict[str, Tip]
    enterprises: dict[str, Enterprise]
    assignments: dict[str, Assignment]


def enterprise(
    session: Session, uscc: str, name: str, county_code: str, county: str, **kw: Any
) -> Enterprise:
    row = Enterprise(uscc=uscc, name=name, county_code=county_code, county=county, industry="炼钢", **kw)
    session.add(row)
    session.flush()
    return row


def tip(session: Session, ticket: str, received_at: datetime, **kw: Any) -> Tip:
    reporter = Reporter(anonymous=True)
    session.add(reporter)
    session.flush()
    fields: dict[str, Any] = {"text": "举报内容", "channel": "web", "status": "received"}
    fields.update(kw)
    row = Tip(
        ticket=ticket, query_code_hash="x" * 64, reporter_id=reporter.id, received_at=received_at, **fields
    )
    session.add(row)
    session.flush()
    return row


def assignment(session: Session, t: Tip, department: str, lead: bool, **kw: Any) -> Assignment:
    row = Assignment(tip_id=t.id, department_code=department, lead=lead, created_at=t.dispatched_at, **kw)
    session.add(row)
    session.flush()
    return row


def rated(session: Session, t: Tip, value: str, when: datetime) -> None:
    t.satisfaction = value
    session.add(
        AuditEvent(
            tip_id=t.id,
            actor="citizen",
            action="rated",
            public=True,
            detail={"satisfaction": value},
            created_at=when,
        )
    )


def seed_week(session: Session) -> Seeded:
    e1 = enterprise(
        session,
        "91441622MA4UTEST01",
        "龙川县恒达钢铁有限公司",
        "441622",
        "龙川县",
        exit_list="红牌",
        exit_list_date=date(2026, 6, 1),
    )
    e2 = enterprise(session, "91441621MA4UTEST02", "紫金县宏发水泥有限公司", "441621", "紫金县")
    e3 = enterprise(session, "91441625MA4UTEST03", "东源县永利玻璃有限公司", "441625", "东源县")

    tech = {"category": "tech", "subtype": "ditiaogang"}
    env = {"category": "env", "subtype": "emission"}
    tips = {
        "P1": tip(session, "HY20261117-000001", at(17, 10), county_code="441622", enterprise_id=e1.id, **env),
        "P2": tip(session, "HY20261118-000001", at(18, 10), channel="telegram", county_code="441602", **tech),
        "T1": tip(
            session,
            "HY20261123-000001",
            at(23, 9),
            county_code="441622",
            enterprise_id=e1.id,
            urgent=True,
            status="closed",
            dispatched_at=at(23, 11),
            closed_at=at(25, 9),
            **tech,
        ),
        "T2": tip(
            session,
            "HY20261124-000001",
            at(24, 10),
            channel="telegram",
            county_code="441622",
            enterprise_id=e1.id,
            status="dispatched",
            dispatched_at=at(24, 14),
            **tech,
        ),
        "T3": tip(
            session,
            "HY20261125-000001",
            at(25, 8),
            channel="phone",
            county_code="441621",
            enterprise_id=e2.id,
            status="closed",
            dispatched_at=at(25, 9),
            closed_at=at(28, 8),
            **env,
        ),
        "T4": tip(
            session,
            "HY20261126-000001",
            at(26, 15),
            county_code="441602",
            category="quality",
            subtype="unlicensed",
        ),
        "T5": tip(
            session,
            "HY20261129-000001",
            at(29, 23, 30),
            county_code="441622",
            enterprise_id=e2.id,
            category="energy",
            subtype="energy_overuse",
        ),
        "T6": tip(session, "HY20261130-000001", at(30, 0, 30), county_code="441622", **tech),
        "T0": tip(
            session,
            "HY20261109-000001",
            at(9, 10),
            county_code="441625",
            status="closed",
            dispatched_at=at(9, 12),
            closed_at=at(27, 10),
            **env,
        ),
        "TX": tip(
            session,
            "HY20261102-000001",
            at(2, 10),
            county_code="441625",
            enterprise_id=e3.id,
            status="in_progress",
            dispatched_at=at(2, 11),
            category="quality",
            subtype="substandard",
        ),
    }
    t = tips
    assignments = {
        "A1": assignment(
            session,
            t["T1"],
            "miit",
            True,
            status="approved",
            sign_due_at=end_of(24),
            signed_at=at(23, 12),
            due_at=end_of(27),
            replied_at=at(24, 18),
            approved_at=at(25, 9),
        ),
        "A2": assignment(
            session,
            t["T1"],
            "gov-441622",
            False,
            status="approved",
            sign_due_at=end_of(24),
            signed_at=at(25, 9),
            due_at=end_of(27),
            replied_at=at(28, 10),
            approved_at=at(28, 11),
        ),
        "A3": assignment(
            session,
            t["T2"],
            "miit",
            True,
            status="pending",
            sign_due_at=end_of(25),
            due_at=end_of(15, month=12),
        ),
        "A4": assignment(
            session,
            t["T3"],
            "eeb",
            True,
            status="approved",
            sign_due_at=end_of(26),
            signed_at=at(25, 10),
            due_at=end_of(27),
            replied_at=at(27, 20),
            approved_at=at(28, 8),
        ),
        "A5": assignment(
            session,
            t["T3"],
            "gov-441621",
            False,
            status="returned",
            sign_due_at=end_of(26),
            due_at=end_of(27),
            return_reason="不属本单位",
        ),
        "A6": assignment(
            session,
            t["T0"],
            "eeb",
            True,
            status="approved",
            sign_due_at=end_of(10),
            signed_at=at(10, 9),
            due_at=end_of(26),
            replied_at=at(27, 9),
            approved_at=at(27, 10),
        ),
        "A7": assignment(
            session,
            t["TX"],
            "amr",
            True,
            status="accepted",
            sign_due_at=end_of(3),
            signed_at=at(3, 9),
            due_at=end_of(20),
        ),
        "A8": assignment(
            session,
            t["TX"],
            "gov-441625",
            False,
            status="accepted",
            sign_due_at=end_of(3),
            signed_at=at(3, 9),
            due_at=end_of(25),
        ),
    }
    rated(session, t["T1"], "满意", at(26, 10))
    rated(session, t["T3"], "不满意", at(28, 12))
    rated(session, t["T0"], "基本满意", at(27, 18))
    session.add_all(
        [
            ExitListChange(
                enterprise_id=e2.id,
                previous_list="",
                target_list="黄牌",
                rectify_by=date(2027, 5, 31),
                reason="能耗超限额，限期整改",
                proposed_at=at(25, 10),
                status="approved",
                decided_at=at(26, 15),
            ),
            ExitListChange(
                enterprise_id=e3.id,
                previous_list="",
                target_list="红牌",
                reason="上周已批准",
                proposed_at=at(18, 10),
                status="approved",
                decided_at=at(19, 10),
            ),
            ExitListChange(
                enterprise_id=e3.id,
                previous_list="",
                target_list="黄牌",
                reason="待审批",
                proposed_at=at(26, 10),
            ),
        ]
    )
    session.flush()
    return Seeded(tips, {"E1": e1, "E2": e2, "E3": e3}, assignments)


def seed_suggestions(session: Session, seeded: Seeded) -> None:
    """Dispatcher labels against the engine's suggestions: in the week, T1 kept as suggested, T2 with the
    county changed, T3 with the category (and so the lead department) changed; T0 corrected the week
    before; T4 dispatched in the week but never analysed. Category kept 2 of 3, lead 2 of 3, unchanged 1.
    The engine was unsure of T3 only (marked 请核对): kept 0 of 1 marked, 2 of 2 unmarked."""
    tips = seeded.tips
    sure = {"category": "tech", "subtype": "ditiaogang", "lead_department": "miit", "confidence": 0.95}
    label = {"category": "tech", "subtype": "ditiaogang", "department": "miit"}
    for key, corrected, changes, when in (
        ("T1", False, {}, at(23, 11)),
        ("T2", True, {"county_code": "441602"}, at(24, 14)),
        ("T3", True, {"category": "env", "subtype": "emission", "department": "eeb"}, at(25, 9)),
        ("T0", True, {"category": "env", "subtype": "emission", "department": "eeb"}, at(9, 12)),
    ):
        confidence = CHECK_BELOW_CONFIDENCE - 0.2 if key == "T3" else sure["confidence"]
        tips[key].analysis, tips[key].triage_state = sure | {"confidence": confidence}, TriageState.done
        session.add(TipLabel(tip_id=tips[key].id, corrected=corrected, created_at=when, **(label | changes)))
    session.add(TipLabel(tip_id=tips["T4"].id, corrected=False, created_at=at(26, 16), **label))
