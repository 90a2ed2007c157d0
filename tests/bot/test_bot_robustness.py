"""Bad input, pressed-twice and stale buttons, a restart mid-conversation, the database down, the timeout."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import time_machine
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from telegram.ext import Application, Job

from bot.services import SERVICES_KEY
from models.bot import BotState
from models.db import make_engine, make_sessionmaker
from models.ratelimit import RateCounter
from models.tips import Attachment, Tip
from tests.bot.fake_telegram import UpdateFactory
from tests.bot.harness import CITIZEN, Bot, BotRunner, jpeg

TEXT = "连平县某水泥厂晚上偷偷开工，粉尘很大，附近村民受影响"


def _count(sessions: sessionmaker[Session], model: type) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_bad_input_is_answered_and_nothing_strange_is_stored(bot: BotRunner) -> None:
    async def story(b: Bot) -> None:
        await b.send(b.updates.sticker(CITIZEN))
        assert "点“举报”开始" in b.last().text
        await b.say("/cancel")
        assert "当前没有进行中的举报" in b.last().text
        await b.say("   ")
        assert "描述太短" in b.last().text
        await b.say("啊" * 10_000)
        assert "不能超过5000字" in b.last().text
        await b.send(b.updates.voice(CITIZEN))
        assert "请用文字描述" in b.last().text
        await b.say(TEXT)
        await b.send(b.updates.document(CITIZEN, b"%PDF-1.4", "application/pdf", "证据.pdf"))
        assert "只接受JPEG、PNG或WebP" in b.last().text
        await b.send(b.updates.photo(CITIZEN, jpeg(), file_size=25 * 1024 * 1024))
        assert "太大（超过10MB）" in b.last().text
        await b.send(b.updates.voice(CITIZEN))
        assert "请发送照片" in b.last().text
        await b.send(b.updates.document(CITIZEN, jpeg(), "image/jpeg", "现场.jpg"))
        assert "第1张" in b.last().text
        await b.say("照片已发完")
        await b.send(b.updates.sticker(CITIZEN))
        assert "请发送位置" in b.last().text
        await b.say("连平县元善镇")
        await b.say("某某水泥")
        await b.send(b.updates.contact(CITIZEN, "13700000000", owner=999))  # someone else's card
        assert "本人的手机号" in b.last().text
        await b.say("匿名举报")
        summary = b.last()
        await b.press(summary, "确认提交")
        assert "工单号" in b.last().text
        calls = await b.press(summary, "确认提交")  # pressed twice
        assert any("已失效" in c.params.get("text", "") for c in calls if c.method == "answerCallbackQuery")
        calls = await b.press(summary, "取消")  # an old button after the conversation ended
        assert any("已失效" in c.params.get("text", "") for c in calls if c.method == "answerCallbackQuery")

    bot.run(story)
    assert _count(bot.sessions, Tip) == 1
    assert _count(bot.sessions, Attachment) == 1
    with bot.sessions() as session:
        tip = session.scalars(select(Tip)).one()
        assert tip.text == TEXT and tip.enterprise_name == "某某水泥" and tip.place == "连平县元善镇"


def test_cancel_at_any_step_drops_the_draft(bot: BotRunner) -> None:
    async def story(b: Bot) -> None:
        await b.say(TEXT)
        await b.send(b.updates.photo(CITIZEN, jpeg()))
        await b.say("/cancel")
        assert "已取消本次举报" in b.last().text
        await b.say("照片已发完")  # no longer in a report: taken as the start of a new one
        assert "如有现场照片" in b.last().text

    bot.run(story)
    assert _count(bot.sessions, Tip) == 0


def test_a_restart_mid_conversation_resumes_from_the_database(bot: BotRunner) -> None:
    async def first_process(b: Bot) -> None:
        await b.say(TEXT)
        await b.send(b.updates.photo(CITIZEN, jpeg()))
        await b.say("照片已发完")
        assert "问题发生在哪里" in b.last().text

    async def main() -> None:
        killed = bot.build()
        await killed.initialize()
        from tests.bot.fake_telegram import UpdateFactory

        updates = UpdateFactory(bot.fake)
        await first_process(Bot(bot.fake, killed, bot.sessions, bot.settings, updates))
        # The process dies: no stop(), no final persistence flush. Only its HTTP client is closed.
        await killed.bot.shutdown()
        with bot.sessions() as session:
            states = {s.scope: s.data for s in session.scalars(select(BotState))}
        assert states["conversation:report"] == "place"

        restarted = bot.build()
        await restarted.initialize()
        b = Bot(bot.fake, restarted, bot.sessions, bot.settings, updates)
        await b.say("和平县阳明镇")
        assert "涉及哪家企业" in b.last().text
        await b.say("跳过")
        await b.say("匿名举报")
        await b.press(b.last(), "确认提交")
        assert "工单号" in b.last().text
        await restarted.shutdown()

    asyncio.run(main())
    with bot.sessions() as session:
        tip = session.scalars(select(Tip)).one()
        assert tip.text == TEXT and tip.place == "和平县阳明镇" and len(tip.attachments) == 1


def test_database_down_during_submit_asks_to_retry_and_stores_nothing(bot: BotRunner, tmp_path) -> None:  # type: ignore[no-untyped-def]
    down = make_sessionmaker(make_engine(f"sqlite:///{tmp_path}/missing/dir/hotline.db"))

    async def story(b: Bot) -> None:
        await b.say(TEXT)
        await b.send(b.updates.photo(CITIZEN, jpeg()))
        await b.say("照片已发完")
        await b.say("连平县")
        await b.say("跳过")
        await b.say("匿名举报")
        summary = b.last()
        services = b.app.bot_data[SERVICES_KEY]
        working, services.sessions = services.sessions, down
        await b.press(summary, "确认提交")
        assert "系统繁忙" in b.last().text and "重试" in b.last().text
        assert _count(b.sessions, Tip) == 0
        assert not list(b.settings.attachments_dir.glob("*"))  # the photo written before the insert is gone
        services.sessions = working
        await b.press(summary, "确认提交")
        assert "工单号" in b.last().text

    bot.run(story)
    assert _count(bot.sessions, Tip) == 1 and _count(bot.sessions, Attachment) == 1


def test_an_idle_conversation_times_out_politely(bot: BotRunner) -> None:
    async def story(b: Bot) -> None:
        await b.say(TEXT)
        assert b.app.job_queue is not None
        (job,) = [j for j in b.app.job_queue.jobs() if "timeout" in (j.name or "")]
        await job.run(b.app)  # what the scheduler does when the time is up
        assert "已经有一段时间没有回复" in b.last().text
        await b.say("照片已发完")  # the old report is gone: this starts a new one
        assert "照片" in b.last().text

    bot.run(story, timeout=timedelta(minutes=5))
    with bot.sessions() as session:
        drafts = [s.data for s in session.scalars(select(BotState).where(BotState.scope == "user"))]
        assert all(TEXT not in str(d) for d in drafts)


TIMEOUT = timedelta(minutes=30)
TIMED_OUT = "已经有一段时间没有回复"


async def _report_started_then_process_died(
    bot: BotRunner, at: datetime, photo_at: datetime | None = None
) -> None:
    """At `at` the citizen starts a report (and sends a photo at `photo_at`); then the process dies."""
    killed = bot.build(timeout=TIMEOUT)
    await killed.initialize()
    b = Bot(bot.fake, killed, bot.sessions, bot.settings, UpdateFactory(bot.fake))
    with time_machine.travel(at, tick=False):
        await b.say(TEXT)
        assert "如有现场照片" in b.last().text
    if photo_at is not None:
        with time_machine.travel(photo_at, tick=False):
            await b.send(b.updates.photo(CITIZEN, jpeg()))
            assert "第1张" in b.last().text
    # No stop(), no final save: the timeout jobs of this process die with it.
    await killed.bot.shutdown()


@asynccontextmanager
async def _restarted(bot: BotRunner) -> AsyncIterator[Bot]:
    """A new process on the same database, started the way `hotline bot` and the webhook mount start it."""
    app = bot.build(timeout=TIMEOUT)
    await app.initialize()
    await app.start()
    try:
        yield Bot(bot.fake, app, bot.sessions, bot.settings, UpdateFactory(bot.fake))
    finally:
        await app.stop()
        await app.shutdown()


def _timeout_job(app: Application[Any, Any, Any, Any, Any, Any]) -> Job[Any]:
    assert app.job_queue is not None
    (job,) = [j for j in app.job_queue.jobs() if "timeout" in (j.name or "")]
    return job


def _timed_out_messages(b: Bot) -> int:
    return sum(TIMED_OUT in c.text for c in b.fake.sent(CITIZEN))


def _conversation_rows(sessions: sessionmaker[Session]) -> list[BotState]:
    with sessions() as session:
        return list(session.scalars(select(BotState).where(BotState.scope.startswith("conversation:"))))


def _drafts(sessions: sessionmaker[Session]) -> list[str]:
    with sessions() as session:
        return [str(s.data) for s in session.scalars(select(BotState).where(BotState.scope == "user"))]


def test_a_report_abandoned_long_before_a_restart_times_out_when_the_bot_starts(bot: BotRunner) -> None:
    async def main() -> None:
        await _report_started_then_process_died(bot, datetime.now(UTC) - timedelta(minutes=45))
        assert _conversation_rows(bot.sessions)
        async with _restarted(bot) as b:
            # The start-up timeout is a job run by the scheduler: wait for the message it sends.
            await asyncio.to_thread(bot.fake.wait_for, lambda: _timed_out_messages(b) > 0)
            assert _conversation_rows(bot.sessions) == []
            assert all(TEXT not in d for d in _drafts(bot.sessions))
            await b.say("照片已发完")  # the old report is gone: this starts a new one
            assert "如有现场照片" in b.last().text
            assert _timed_out_messages(b) == 1

    asyncio.run(main())


def test_a_resumed_report_times_out_when_its_remaining_time_has_passed(bot: BotRunner) -> None:
    last_photo = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)

    async def main() -> None:
        # The photo keeps the report in the same step, yet it is activity: the time left counts from it.
        await _report_started_then_process_died(bot, last_photo - timedelta(minutes=15), photo_at=last_photo)
        async with _restarted(bot) as b:
            job = _timeout_job(b.app)
            assert job.next_t == last_photo + TIMEOUT  # 20 minutes after the restart, not 30
            assert _timed_out_messages(b) == 0
            await job.run(b.app)  # what the scheduler does when the time is up
            assert TIMED_OUT in b.last().text
            assert _conversation_rows(bot.sessions) == []
            assert all(TEXT not in d for d in _drafts(bot.sessions))
            await b.say("照片已发完")
            assert "如有现场照片" in b.last().text

    asyncio.run(main())


def test_a_resumed_report_stays_open_when_the_citizen_writes_before_its_time_is_up(bot: BotRunner) -> None:
    async def main() -> None:
        await _report_started_then_process_died(bot, datetime.now(UTC) - timedelta(minutes=10))
        async with _restarted(bot) as b:
            resumed = _timeout_job(b.app)
            await b.say("照片已发完")
            assert "问题发生在哪里" in b.last().text
            assert resumed.removed  # the reply cancelled it, as it cancels a live timeout
            await resumed.run(b.app)  # even if the scheduler had fired it anyway
            assert _timed_out_messages(b) == 0
            await b.say("和平县阳明镇")
            assert "涉及哪家企业" in b.last().text
            live = _timeout_job(b.app)  # the ordinary timeout now runs from the citizen's last message
            await live.run(b.app)
            assert _timed_out_messages(b) == 1
            await b.app.update_persistence()  # the periodic save
            assert _conversation_rows(bot.sessions) == []
            assert all(TEXT not in d for d in _drafts(bot.sessions))

    asyncio.run(main())


def test_a_telegram_user_flooding_reports_is_told_to_wait(bot: BotRunner) -> None:
    from intake.ratelimit import TELEGRAM_SUBMIT

    async def story(b: Bot) -> None:
        for attempt in range(TELEGRAM_SUBMIT.count + 1):
            await b.say(f"{TEXT}（第{attempt + 1}次）")
            await b.say("不上传照片")
            await b.say("连平县元善镇")
            await b.say("跳过")
            await b.say("匿名举报")
            await b.press(b.last(), "确认提交")
            if attempt < TELEGRAM_SUBMIT.count:
                assert "工单号" in b.last().text
            else:
                assert "频繁" in b.last().text
                await b.say("/cancel")

    bot.run(story)
    assert _count(bot.sessions, Tip) == TELEGRAM_SUBMIT.count
    with bot.sessions() as session:  # the counters never store the Telegram user id itself
        keys = list(session.scalars(select(RateCounter.key)))
    assert keys and not any(str(CITIZEN) in key for key in keys)
