"""A citizen reports through the Telegram bot: the real PTB client against the fake Bot API server."""

from sqlalchemy import func, select, text

from models.tips import Attachment, Reporter, Tip, telegram_user_key
from tests.bot.harness import CITIZEN, Bot, BotRunner, jpeg


def test_a_citizen_reports_with_photos_location_and_phone(bot: BotRunner) -> None:
    async def story(b: Bot) -> None:
        await b.say("/start")
        assert b.last().buttons == ["举报", "查询进度", "帮助"]
        await b.say("举报")
        assert "请用文字描述" in b.last().text
        await b.say("龙川县老隆镇有个无名厂房每天半夜开中频炉炼钢，黑烟很大")
        assert "照片" in b.last().text
        await b.send(b.updates.photo(CITIZEN, jpeg()))
        await b.send(b.updates.photo(CITIZEN, jpeg(32, 32)))
        assert "第2张" in b.last().text
        await b.say("照片已发完")
        assert "发送当前位置" in b.last().buttons
        await b.send(b.updates.location(CITIZEN, 24.1, 115.25))
        await b.say("跳过")
        await b.send(b.updates.contact(CITIZEN, "13800138000"))
        summary = b.last()
        assert "照片：2张" in summary.text and "13800138000" in summary.text
        await b.press(summary, "确认提交")
        receipt = b.last().text
        assert "工单号：HY" in receipt and "查询码：" in receipt

    bot.run(story)
    with bot.sessions() as session:
        tip = session.scalars(select(Tip)).one()
        assert tip.channel == "telegram" and tip.latitude == 24.1
        assert session.scalar(select(func.count()).select_from(Attachment)) == 2
        reporter = session.get(Reporter, tip.reporter_id)
        assert reporter is not None
        assert reporter.contact == "13800138000" and not reporter.anonymous
        assert reporter.telegram_user_key == telegram_user_key(CITIZEN) and reporter.telegram_chat == str(
            CITIZEN
        )
        # Neither id is in the stored row itself (a dump of the database reveals no Telegram account).
        stored = session.execute(
            text("SELECT telegram_user_key, telegram_chat FROM reporters WHERE id = :id"), {"id": reporter.id}
        ).one()
        assert str(CITIZEN) not in "".join(stored)


def test_the_enterprise_step_offers_register_names_when_triage_is_present(bot: BotRunner) -> None:
    asked: list[tuple[str, str]] = []

    def register_suggestions(text: str, typed: str) -> list[str]:
        asked.append((text, typed))
        return ["河源市龙川县宏达钢铁有限公司", "河源市龙川县宏达铸造厂"]

    async def story(b: Bot) -> None:
        await b.say("龙川县宏达厂晚上偷偷炼钢，中频炉一直在烧")
        await b.say("不上传照片")
        await b.say("龙川县")
        await b.say("宏达")
        offer = b.last()
        assert "您说的是下列企业吗" in offer.text
        assert offer.buttons == [
            "河源市龙川县宏达钢铁有限公司",
            "河源市龙川县宏达铸造厂",
            "都不是，按我填写的",
        ]
        await b.press(offer, "河源市龙川县宏达钢铁有限公司")
        assert "是否留下联系方式" in b.last().text
        await b.say("匿名举报")
        await b.press(b.last(), "确认提交")

    bot.run(story, suggester=register_suggestions)
    assert asked == [("龙川县宏达厂晚上偷偷炼钢，中频炉一直在烧", "宏达")]
    with bot.sessions() as session:
        assert session.scalars(select(Tip.enterprise_name)).one() == "河源市龙川县宏达钢铁有限公司"
