"""Staff notices from the outbox: 督办, reminders, reviews, returns, extensions, callbacks, exit lists and the
weekly digest reach the department, dispatcher and bureau chats, with useful Chinese text and never the
reporter's identity."""

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from bot.links import create_link_code, redeem_link_code
from bot.notices import MAX_MESSAGE_CHARS, plain_digest, split_message, telegram_length
from bot.sender import SenderConfig, deliver_due
from bot.staff_chats import StaffChats
from bot.texts import PART_MARKER, fmt_time
from digest import exit_lists, jobs
from digest.exit_lists import Proposal
from digest.settings import DigestSettings
from digest.week import IsoWeek
from models.db import unit_of_work
from models.outbox import OutboxMessage
from models.workorders import Assignment
from tests.bot.harness import CITIZEN, Bot, BotRunner
from tests.digest.seed import enterprise
from tests.factories import TZ, actor, make_tip, make_user, tech_order
from triage import workorders as wo
from triage.actors import CITIZEN as CITIZEN_ACTOR
from triage.routing import catalogue

MIIT_GROUP, GOV_GROUP = -100700, -100701
BUREAU_CHAT, DISPATCHERS_CHAT = -100800, -100801
STAFF = StaffChats(telegram_bureau_chat_id=BUREAU_CHAT, telegram_dispatchers_chat_id=DISPATCHERS_CHAT)
CONFIG = SenderConfig(global_interval=0, per_chat_interval=0, staff_chats=STAFF, public_url="https://hl.test")
NAME, PHONE, OTHER_NAME, OTHER_PHONE = "张三丰", "13912345678", "李四光", "13787654321"
USCC = "91441622MA4W3X0K1B"
FIRM = "龙川县老隆钢铁有限公司"


@dataclass
class Story:
    """What the seeded week left in the outbox, for the assertions."""

    ticket_a: str
    ticket_b: str
    ticket_c: str
    miit: Assignment  # tip A's assignments as they stood at the overdue scan (detached)
    gov: Assignment
    days_overdue: dict[str, str]
    email_id: int


def _department_name(code: str) -> str:
    return catalogue().department_name(code)


def _seed(bot: BotRunner) -> Story:
    """A named Telegram reporter's tips worked through every transition that tells staff something."""
    s, st = bot.sessions, bot.settings
    with unit_of_work(s) as session:
        disp = actor(make_user(session, "disp", "dispatcher"))
        miit = actor(make_user(session, "miit1", "department", "miit"))
        gov = actor(make_user(session, "gov1", "department", "gov-441622"))
        bureau = actor(make_user(session, "bureau1", "bureau"))
        redeem_link_code(session, create_link_code(session, miit).code, MIIT_GROUP)
        redeem_link_code(session, create_link_code(session, gov).code, GOV_GROUP)
        enterprise(session, USCC, FIRM, "441622", "龙川县")
    named = {"name": NAME, "contact": PHONE, "anonymous": False}
    tg = {"channel": "telegram", "telegram_user_id": CITIZEN, "telegram_chat_id": CITIZEN}
    a = make_tip(s, st, **named, **tg)
    b = make_tip(s, st, name=OTHER_NAME, contact=OTHER_PHONE, anonymous=False)
    c = make_tip(s, st, **named, **tg)
    with unit_of_work(s) as session:
        ids = {x.department_code: x.id for x in wo.dispatch(session, disp, a.tip_id, tech_order(), TZ)}
        wo.dispatch(session, disp, b.tip_id, tech_order(lead="gov-441622", co_handlers=()), TZ)
        c_miit = wo.dispatch(session, disp, c.tip_id, tech_order(co_handlers=()), TZ)[0].id
    with unit_of_work(s) as session:
        pending = session.get(Assignment, ids["gov-441622"])
        assert pending is not None
        # Sign-off reminders two hours ahead of the deadline, for both departments of tip A.
        reminded = jobs.remind_sign_off(session, pending.sign_due_at - timedelta(hours=1), timedelta(hours=2))
        assert set(ids.values()) <= set(reminded)
    with unit_of_work(s) as session:
        wo.sign(session, miit, ids["miit"])
        wo.request_extension(session, miit, ids["miit"], 5, "需要委托检测用电数据")
    with unit_of_work(s) as session:
        rows = {
            x.department_code: x
            for x in session.scalars(select(Assignment).where(Assignment.tip_id == a.tip_id))
        }
        scan_at = max(x.due_at for x in rows.values()) + timedelta(days=3)
        escalated = jobs.escalate_overdue(session, scan_at)
        days = {e.department_code: f"{e.days_overdue:.1f}" for e in escalated if e.tip_id == a.tip_id}
    with unit_of_work(s) as session:
        wo.reply(session, miit, ids["miit"], "已现场核查，中频炉已查封")
        gov_b = session.scalars(select(Assignment).where(Assignment.tip_id == b.tip_id)).one()
        wo.return_(session, gov, gov_b.id, "属于市场监管局职责", TZ)
        wo.sign(session, miit, c_miit)
        wo.reply(session, miit, c_miit, "已责令停产")
    with unit_of_work(s) as session:
        wo.approve(session, disp, c_miit)
    with unit_of_work(s) as session:
        wo.record_satisfaction(session, CITIZEN_ACTOR, c.tip_id, "不满意")
        change = exit_lists.propose(
            session,
            miit,
            Proposal(
                USCC, "黄牌", "能耗超限_整改未完成", rectify_by=date(2027, 5, 31), assignment_id=ids["miit"]
            ),
        )
    with unit_of_work(s) as session:
        exit_lists.decide(session, bureau, change.id, approve=True, tz=TZ)
        cfg = DigestSettings(digest_telegram=True, smtp_host="127.0.0.1", digest_email_to="bureau@hl.test")
        jobs.produce_weekly_digest(
            session, IsoWeek.containing(scan_at.astimezone(TZ).date()), TZ, cfg, catalogue()
        )
        email_id = session.scalars(select(OutboxMessage.id).where(OutboxMessage.channel == "email")).one()
    return Story(a.ticket, b.ticket, c.ticket, rows["miit"], rows["gov-441622"], days, email_id)


def _texts(b: Bot, chat: int) -> list[str]:
    return [c.text for c in b.fake.sent(chat)]


def _one(texts: list[str], marker: str) -> str:
    found = [t for t in texts if marker in t]
    assert len(found) == 1, (marker, texts)
    return found[0]


def test_every_staff_notice_reaches_its_chat_with_useful_text_and_no_reporter_identity(
    bot: BotRunner,
) -> None:
    story = _seed(bot)
    miit_name, gov_name = _department_name("miit"), _department_name("gov-441622")

    async def deliver_all(b: Bot) -> None:
        report = await deliver_due(b.app.bot, b.sessions, CONFIG, b.settings.tz)
        assert report.failed == [] and report.retried == []

        miit = _texts(b, MIIT_GROUP)
        reminder = _one(miit, f"【签收提醒】{story.ticket_a}")
        assert f"请于 {fmt_time(story.miit.sign_due_at, TZ)} 前签收" in reminder and "中频炉" in reminder
        overdue = _one(miit, f"【督办·超期】{story.ticket_a}")
        assert (
            f"办理期限：{fmt_time(story.miit.due_at, TZ)}，已超期 {story.days_overdue['miit']} 天" in overdue
        )
        assert "请立即办理并反馈" in overdue
        # miit has signed: its overdue notice has nothing to sign.
        assert next(c for c in b.fake.sent(MIIT_GROUP) if c.text == overdue).buttons == []
        decided = _one(miit, "【名单变更审批】")
        assert f"{FIRM}：列入黄牌（限期整改至 2027-05-31）" in decided and "结果：已批准" in decided

        gov_overdue = next(c for c in b.fake.sent(GOV_GROUP) if "【督办·超期】" in c.text)
        assert f"已超期 {story.days_overdue['gov-441622']} 天" in gov_overdue.text
        assert "尚未签收" in gov_overdue.text and gov_overdue.buttons == [
            "签收"
        ]  # still pending: sign from here
        assert gov_overdue.callback_data("签收") == f"sign:{story.gov.id}"

        disp = _texts(b, DISPATCHERS_CHAT)
        summary = _one(disp, "【督办汇总】")
        assert f"• {story.ticket_a} {miit_name} 超期 {story.days_overdue['miit']} 天" in summary
        assert f"• {story.ticket_a} {gov_name} 超期" in summary and "https://hl.test/staff/queue" in summary
        assert f"【延期申请】{story.ticket_a} {miit_name}申请延期 5 个工作日" in _one(disp, "【延期申请】")
        replied = _one(disp, f"【待审核】{story.ticket_a}")
        assert f"{miit_name}已提交办结反馈" in replied and "https://hl.test/staff/tips/" in replied
        returned = _one(disp, f"【退单】{story.ticket_b}")
        assert f"{gov_name}退回交办单" in returned and "理由：属于市场监管局职责" in returned
        assert "中频炉" in _one(disp, f"【回访不满意】{story.ticket_c}")

        bureau = _texts(b, BUREAU_CHAT)
        proposed = _one(bureau, "【名单变更申请】")
        assert f"{miit_name}申请：{FIRM}（{USCC}）列入黄牌（限期整改至 2027-05-31）" in proposed
        assert "能耗超限_整改未完成" in proposed  # the stray underscore arrives as written
        digest = _one(bureau, "落后产能举报周报")
        assert "【概况】" in digest and "• 新增举报" in digest and "## " not in digest

        # Not one staff message names, reaches or identifies the reporter.
        staff = [c for c in b.fake.sent() if c.chat_id != CITIZEN]
        assert len(staff) >= 14
        for call in staff:
            for secret in (NAME, PHONE, OTHER_NAME, OTHER_PHONE, str(CITIZEN)):
                assert secret not in call.text, (secret, call.text)
        # The reporter's own chat got its notices as before.
        assert any("已办结" in t for t in _texts(b, CITIZEN))

    bot.run(deliver_all)
    with bot.sessions() as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.channel == "telegram")).all()
        staff_rows = [r for r in rows if r.recipient_kind in ("bureau", "dispatchers", "department")]
        assert {r.status for r in staff_rows} == {"sent"}
        email = session.get(OutboxMessage, story.email_id)
        assert email is not None and (email.status, email.attempts, email.last_error) == ("pending", 0, None)


# ---- splitting for Telegram's limit (no database) ------------------------------------------------


def _unmarked(parts: list[str]) -> str:
    total = len(parts)
    return "".join(p.removeprefix(PART_MARKER.format(index=i, total=total)) for i, p in enumerate(parts, 1))


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("短消息", id="short"),
        pytest.param("\n".join(f"- 第{i}行：某某钢铁有限公司 3 件" for i in range(600)), id="many-lines"),
        pytest.param("钢" * 9000, id="one-huge-line"),
        pytest.param(("🏭" * 50 + "\n") * 100, id="emoji-count-double"),
        pytest.param("x" * MAX_MESSAGE_CHARS, id="exactly-the-limit"),
    ],
)
def test_a_long_text_is_split_into_parts_that_fit_and_lose_nothing(text: str) -> None:
    parts = split_message(text)
    assert all(telegram_length(p) <= MAX_MESSAGE_CHARS for p in parts)
    if telegram_length(text) <= MAX_MESSAGE_CHARS:
        assert parts == [text]
    else:
        assert len(parts) > 1 and parts[0].startswith(f"（1/{len(parts)}）")
        assert _unmarked(parts) == text


def test_the_digest_markdown_reads_as_plain_text() -> None:
    markdown = "# 落后产能举报周报 2026-W48\n2026-11-23 至 2026-11-29\n\n## 概况\n- 新增举报：5 件\n- 企业_甲"
    assert (
        plain_digest(markdown)
        == "落后产能举报周报 2026-W48\n2026-11-23 至 2026-11-29\n\n【概况】\n• 新增举报：5 件\n• 企业_甲"
    )
