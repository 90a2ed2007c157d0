"""The outbox sender: at-least-once delivery, backoff, permanent failures, flood control, crash safety,
staff chats that are not configured, e-mail rows left alone, and messages too long for one Telegram message."""

import asyncio
from datetime import datetime, timedelta
from typing import Any

import pytest
from telegram.error import BadRequest

from bot.notices import MAX_MESSAGE_CHARS, plain_digest, telegram_length
from bot.sender import RateLimiter, SenderConfig, claim, deliver_due
from bot.staff_chats import StaffChats
from models.base import utcnow
from models.db import unit_of_work
from models.outbox import OutboxMessage
from models.tips import Tip
from tests.bot.fake_telegram import Call
from tests.bot.harness import CITIZEN, Bot, BotRunner
from tests.factories import make_tip
from triage import outbox

CONFIG = SenderConfig(max_attempts=3, global_interval=0, per_chat_interval=0)
BUREAU_CHAT = -100800


class Clock:
    def __init__(self) -> None:
        self.at = utcnow()

    def __call__(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


def _queue_notice(bot: BotRunner, kind: str = "tip_dispatched", recipient: str = "reporter") -> int:
    receipt = make_tip(
        bot.sessions, bot.settings, channel="telegram", telegram_user_id=CITIZEN, telegram_chat_id=CITIZEN
    )
    with unit_of_work(bot.sessions) as session:
        tip = session.get(Tip, receipt.tip_id)
        assert tip is not None
        ref = str(tip.reporter_id) if recipient == "reporter" else ""
        message = outbox.enqueue(
            session, kind, recipient, ref, ticket=tip.ticket, tip_id=tip.id, department="市工业和信息化局"
        )
        session.flush()
        return message.id


def _row(bot: BotRunner, outbox_id: int) -> OutboxMessage:
    with bot.sessions() as session:
        row = session.get(OutboxMessage, outbox_id)
        assert row is not None
        return row


def _delivered(b: Bot) -> list[Any]:
    return [c for c in b.fake.calls("sendMessage") if c.message_id is not None]


def test_errors_back_off_and_the_message_is_sent_once_accepted(bot: BotRunner) -> None:
    outbox_id = _queue_notice(bot)
    clock = Clock()

    async def story(b: Bot) -> None:
        send = lambda: deliver_due(b.app.bot, b.sessions, CONFIG, b.settings.tz, now=clock)  # noqa: E731
        b.fake.fail_next("sendMessage", times=2, status=502, description="Bad Gateway")
        assert (await send()).retried == [outbox_id]
        first = _row(bot, outbox_id)
        assert first.status == "pending" and first.attempts == 1 and "Bad Gateway" in (first.last_error or "")
        assert first.next_attempt_at == clock.at + CONFIG.base_delay
        assert (await send()).retried == []  # not due yet: nothing is sent early
        clock.advance(31)
        await send()
        assert _row(bot, outbox_id).next_attempt_at == clock.at + 2 * CONFIG.base_delay  # doubled
        clock.advance(61)
        assert (await send()).sent == [outbox_id]
        assert (await send()).sent == []  # sent means sent: never again
        assert [c.text for c in _delivered(b)] == [
            f"您的举报 {_row(bot, outbox_id).payload['ticket']} 已派至市工业和信息化局办理。"
        ]

    bot.run(story)
    row = _row(bot, outbox_id)
    assert row.status == "sent" and row.sent_at is not None and row.attempts == 3


def test_a_bot_blocked_by_the_user_fails_at_once(bot: BotRunner) -> None:
    outbox_id = _queue_notice(bot)

    async def story(b: Bot) -> None:
        b.fake.fail_next("sendMessage", status=403, description="Forbidden: bot was blocked by the user")
        assert (await b.deliver()).failed == [outbox_id]

    bot.run(story)
    row = _row(bot, outbox_id)
    assert row.status == "failed" and row.attempts == 1 and "blocked" in (row.last_error or "")


def test_a_message_that_keeps_failing_is_marked_failed_after_max_attempts(bot: BotRunner) -> None:
    outbox_id = _queue_notice(bot)
    clock = Clock()

    async def story(b: Bot) -> None:
        b.fake.fail_next("sendMessage", times=10, status=500)
        for _ in range(CONFIG.max_attempts + 2):
            await deliver_due(b.app.bot, b.sessions, CONFIG, b.settings.tz, now=clock)
            clock.advance(3 * 3600)
        assert len(b.fake.calls("sendMessage")) == CONFIG.max_attempts

    bot.run(story)
    row = _row(bot, outbox_id)
    assert row.status == "failed" and row.attempts == CONFIG.max_attempts


def test_flood_control_waits_as_telegram_says(bot: BotRunner) -> None:
    outbox_id = _queue_notice(bot)
    clock = Clock()

    async def story(b: Bot) -> None:
        b.fake.fail_next(
            "sendMessage", status=429, description="Too Many Requests: retry after 17", retry_after=17
        )
        await deliver_due(b.app.bot, b.sessions, CONFIG, b.settings.tz, now=clock)

    bot.run(story)
    row = _row(bot, outbox_id)
    assert row.status == "pending" and row.next_attempt_at == clock.at + timedelta(seconds=17)


def test_a_sender_killed_mid_send_loses_nothing_and_a_second_sender_does_not_double_send(
    bot: BotRunner,
) -> None:
    outbox_id = _queue_notice(bot)
    clock = Clock()
    # Sender A claims the message and dies before it could send or settle.
    deliveries, _, _ = claim(bot.sessions, CONFIG, bot.settings.tz, clock())
    assert [d.outbox_id for d in deliveries] == [outbox_id]

    async def story(b: Bot) -> None:
        # Sender B, while A's lease runs: the message is not claimable twice.
        assert (await deliver_due(b.app.bot, b.sessions, CONFIG, b.settings.tz, now=clock)).sent == []
        clock.advance(CONFIG.lease.total_seconds() + 1)
        assert (await deliver_due(b.app.bot, b.sessions, CONFIG, b.settings.tz, now=clock)).sent == [
            outbox_id
        ]
        assert len(_delivered(b)) == 1

    bot.run(story)
    assert _row(bot, outbox_id).status == "sent"


def test_staff_rows_without_a_configured_chat_are_skipped_and_email_rows_are_left_alone(
    bot: BotRunner,
) -> None:
    dispatcher_row = _queue_notice(bot, kind="tip_unsatisfied", recipient="dispatchers")
    with unit_of_work(bot.sessions) as session:
        digest = outbox.enqueue(session, "weekly_digest", "bureau", "", week="2026-W48", text="# 周报")
        mail = outbox.enqueue(session, "weekly_digest", "bureau", "", channel="email", to=["a@hl.test"])
        session.flush()
        digest_row, mail_row = digest.id, mail.id
    unconfigured = SenderConfig(
        global_interval=0,
        per_chat_interval=0,
        staff_chats=StaffChats(telegram_bureau_chat_id=None, telegram_dispatchers_chat_id=None),
    )

    async def story(b: Bot) -> None:
        report = await deliver_due(b.app.bot, b.sessions, unconfigured, b.settings.tz)
        assert sorted(report.skipped) == sorted([dispatcher_row, digest_row])
        assert (await deliver_due(b.app.bot, b.sessions, unconfigured, b.settings.tz)).skipped == []
        assert b.fake.sent() == []

    bot.run(story)
    assert _row(bot, dispatcher_row).status == "skipped"
    assert _row(bot, dispatcher_row).last_error == (
        "no dispatchers chat configured (HOTLINE_TELEGRAM_DISPATCHERS_CHAT_ID)"
    )
    assert _row(bot, digest_row).status == "skipped"
    assert "no bureau chat configured" in (_row(bot, digest_row).last_error or "")
    email = _row(bot, mail_row)  # digest/mail.py's, never the bot's
    assert (email.status, email.attempts, email.last_error) == ("pending", 0, None)


def test_a_message_that_cannot_be_rendered_fails_alone_and_the_rest_go_out(bot: BotRunner) -> None:
    with unit_of_work(bot.sessions) as session:
        broken = outbox.enqueue(
            session, "tip_unsatisfied", "dispatchers", "", ticket="HY1", tip_id="not-an-id"
        )
        session.flush()
        broken_id = broken.id
    good_id = _queue_notice(bot)
    config = SenderConfig(
        global_interval=0, per_chat_interval=0, staff_chats=StaffChats(telegram_dispatchers_chat_id=-100801)
    )

    async def story(b: Bot) -> None:
        report = await deliver_due(b.app.bot, b.sessions, config, b.settings.tz)
        assert report.failed == [broken_id] and report.sent == [good_id]

    bot.run(story)
    row = _row(bot, broken_id)
    assert row.status == "failed" and "cannot render" in (row.last_error or "")


def _long_digest() -> str:
    sections = ["# 落后产能举报周报 2026-W48", "## 重复举报企业"]
    sections += [
        f"- 河源市第{i}号_钢铁有限公司（龙川县）：本周 {i % 7 + 1} 件，累计 {i} 件" for i in range(260)
    ]
    return "\n".join(sections)


def test_a_digest_longer_than_one_message_arrives_complete_in_parts_and_a_retry_resumes(
    bot: BotRunner,
) -> None:
    text = _long_digest()
    assert len(text) > 2 * MAX_MESSAGE_CHARS
    with unit_of_work(bot.sessions) as session:
        row = outbox.enqueue(session, "weekly_digest", "bureau", "", week="2026-W48", text=text)
        session.flush()
        outbox_id = row.id
    clock = Clock()
    config = SenderConfig(
        global_interval=0, per_chat_interval=0, staff_chats=StaffChats(telegram_bureau_chat_id=BUREAU_CHAT)
    )

    def fail_the_second_part(call: Call) -> None:
        if call.method == "sendMessage" and call.accepted and call.text.startswith("（1/"):
            bot.fake.fail_next("sendMessage", status=502, description="Bad Gateway")

    async def story(b: Bot) -> None:
        b.fake.on_call = fail_the_second_part
        first = await deliver_due(b.app.bot, b.sessions, config, b.settings.tz, now=clock)
        assert first.retried == [outbox_id] and len(b.fake.sent(BUREAU_CHAT)) == 1
        b.fake.on_call = None
        clock.advance(31)
        assert (await deliver_due(b.app.bot, b.sessions, config, b.settings.tz, now=clock)).sent == [
            outbox_id
        ]
        parts = [c.text for c in b.fake.sent(BUREAU_CHAT)]
        total = len(parts)
        assert total >= 3 and [p[: len(f"（{i}/{total}）")] for i, p in enumerate(parts, 1)] == [
            f"（{i}/{total}）" for i in range(1, total + 1)
        ]  # each part once, in order: the retry did not repeat part 1
        assert all(telegram_length(p) <= MAX_MESSAGE_CHARS for p in parts)
        joined = "".join(p.split("\n", 1)[1] for p in parts)
        assert joined == plain_digest(text)  # nothing lost, stray underscores and all

    bot.run(story)
    assert _row(bot, outbox_id).status == "sent"


def test_the_fake_telegram_refuses_what_telegram_refuses(bot: BotRunner) -> None:
    """The fake enforces the length limit and Markdown parsing, so the tests above prove something."""

    async def story(b: Bot) -> None:
        with pytest.raises(BadRequest, match="too long"):
            await b.app.bot.send_message(BUREAU_CHAT, "钢" * (MAX_MESSAGE_CHARS + 1))
        with pytest.raises(BadRequest, match="parse entities"):
            await b.app.bot.send_message(BUREAU_CHAT, "河源_钢铁", parse_mode="Markdown")
        await b.app.bot.send_message(BUREAU_CHAT, "河源_钢铁")

    bot.run(story)


def test_the_rate_limiter_spaces_messages_per_chat_and_overall() -> None:
    now = [0.0]
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(round(seconds, 3))
        now[0] += seconds

    limiter = RateLimiter(global_interval=0.05, per_chat_interval=1.0, clock=lambda: now[0], sleep=sleep)

    async def run() -> None:
        for chat in (1, 2, 1, 3):
            await limiter.wait(chat)

    asyncio.run(run())
    # chat 2 waits for the global gap; the second message to chat 1 waits a full second after the first.
    assert waits == [0.05, 0.95, 0.05]
