"""After the report: status queries, the dispatch and closure notices, and the 回访 buttons."""

import json

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models.audit import AuditEvent
from models.db import unit_of_work
from models.outbox import OutboxMessage
from models.tips import Tip
from tests.bot.harness import CITIZEN, Bot, BotRunner
from tests.factories import TZ, actor, make_tip, make_user, tech_order
from triage import workorders as wo

STRANGER = 515151


async def report(b: Bot, text: str = "东源县仙塘镇某钢厂偷偷复产，晚上机器轰鸣，烟囱冒黑烟") -> str:
    """A quick anonymous report; returns the receipt text."""
    await b.say(text)
    await b.say("不上传照片")
    await b.say("东源县仙塘镇工业园")
    await b.say("跳过")
    await b.say("匿名举报")
    await b.press(b.last(), "确认提交")
    return b.last().text


def _ticket_and_code(receipt: str) -> tuple[str, str]:
    lines = dict(line.split("：", 1) for line in receipt.splitlines() if "：" in line)
    return lines["工单号"], lines["查询码"]


def _dispatch_and_close(sessions: sessionmaker[Session]) -> None:
    """Staff work the tip through the same services the pages use."""
    with unit_of_work(sessions) as session:
        disp = actor(make_user(session, "disp", "dispatcher"))
        miit = actor(make_user(session, "miit1", "department", "miit"))
        gov = actor(make_user(session, "gov1", "department", "gov-441622"))
    with unit_of_work(sessions) as session:
        tip_id = session.scalars(select(Tip.id)).one()
        assignments = wo.dispatch(session, disp, tip_id, tech_order(), TZ)
        ids = {a.department_code: a.id for a in assignments}
    for code, who in (("miit", miit), ("gov-441622", gov)):
        with unit_of_work(sessions) as session:
            wo.sign(session, who, ids[code])
            wo.reply(session, who, ids[code], "已现场核查，责令停产，设备已查封")
    with unit_of_work(sessions) as session:
        for assignment_id in ids.values():
            wo.approve(session, disp, assignment_id)


def test_report_status_closure_notice_and_satisfaction(bot: BotRunner) -> None:
    async def story(b: Bot) -> None:
        ticket, code = _ticket_and_code(await report(b))
        # The reporter's own tip needs no query code.
        await b.say(f"/status {ticket}")
        assert "状态：已受理" in b.last().text
        # Someone else needs the code, and a wrong one reads like an unknown ticket.
        await b.say(f"/status {ticket}", user=STRANGER)
        assert "未找到该工单" in b.last(STRANGER).text
        await b.say(f"/status {ticket} WRONGCODE99", user=STRANGER)
        assert "未找到该工单" in b.last(STRANGER).text
        await b.say(f"/status {ticket} {code}", user=STRANGER)
        assert "状态：已受理" in b.last(STRANGER).text
        await b.say("查询进度")
        assert ticket in b.last().text

        _dispatch_and_close(b.sessions)
        report_ = await b.deliver()
        notices = [c.text for c in b.fake.sent(CITIZEN)[-2:]]
        assert f"您的举报 {ticket} 已派至" in notices[0]
        closure = b.last()
        assert "已办结" in closure.text and "责令停产" in closure.text
        assert closure.buttons == ["满意", "基本满意", "不满意"]
        assert report_.sent and not report_.failed

        await b.press(closure, "满意")
        assert "感谢您的评价：满意" in b.last().text
        # Pressing again (or another button of the same message) does not change the answer.
        calls = await b.press(closure, "不满意")
        answer = next(c for c in calls if c.method == "answerCallbackQuery")
        assert "已经评价过了" in answer.params["text"]
        await b.say(f"/status {ticket}")
        assert "您的评价：满意" in b.last().text

    bot.run(story)
    with bot.sessions() as session:
        tip = session.scalars(select(Tip)).one()
        assert tip.satisfaction == "满意"
        sent = session.scalars(select(OutboxMessage).where(OutboxMessage.recipient_kind == "reporter")).all()
        assert {m.status for m in sent} == {"sent"}
        # The audit trail (which departments may read) says "through Telegram", never which account.
        events = session.scalars(select(AuditEvent)).all()
        assert any(e.action == "rated" and e.actor == "telegram" for e in events)
        assert not any(str(CITIZEN) in e.actor + json.dumps(e.detail) for e in events)


def test_only_the_reporter_can_rate(bot: BotRunner, settings) -> None:  # type: ignore[no-untyped-def]
    async def story(b: Bot) -> None:
        await report(b)
        _dispatch_and_close(b.sessions)
        await b.deliver()
        closure = b.last()
        calls = await b.press(closure, "不满意", user=STRANGER, chat=CITIZEN)
        answer = next(c for c in calls if c.method == "answerCallbackQuery")
        assert "未找到" in answer.params["text"]

    bot.run(story)
    with bot.sessions() as session:
        assert session.scalars(select(Tip.satisfaction)).one() is None


def test_web_tips_have_no_telegram_chat_and_are_skipped(bot: BotRunner) -> None:
    make_tip(bot.sessions, bot.settings)
    _dispatch_and_close(bot.sessions)

    async def story(b: Bot) -> None:
        result = await b.deliver()
        assert result.skipped and not result.sent  # departments are not linked, the reporter used the web

    bot.run(story)
    with bot.sessions() as session:
        statuses = set(
            session.scalars(select(OutboxMessage.status).where(OutboxMessage.recipient_kind == "reporter"))
        )
        assert statuses == {"skipped"}
