"""Citizen handlers outside the report: /start, help, status queries, the 回访 buttons, stale buttons."""

import asyncio
import logging

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm.exc import StaleDataError
from telegram import Update
from telegram.ext import ContextTypes

from bot import texts
from bot.citizens import own_tips, rate_own_tip, status_for
from bot.handlers_report import MENU
from bot.services import services
from models.db import unit_of_work
from triage.errors import HotlineError

log = logging.getLogger(__name__)
Context = ContextTypes.DEFAULT_TYPE


async def start(update: Update, context: Context) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(texts.WELCOME, reply_markup=MENU)


async def help_(update: Update, context: Context) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(texts.HELP, reply_markup=MENU)


async def status(update: Update, context: Context) -> None:
    """/status TICKET [CODE]: the same service as the web status page."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    args = context.args or []
    if not args:
        await my_tips(update, context)
        return
    ticket, code = args[0], (args[1] if len(args) > 1 else "")
    svc = services(context)

    def query() -> str:
        with svc.sessions() as session:
            return texts.status_text(
                status_for(session, user.id, ticket, code, svc.intake.secret_key), svc.tz
            )

    try:
        reply = await asyncio.to_thread(query)
    except HotlineError as exc:
        reply = exc.message + ("" if code else "\n" + texts.STATUS_USAGE)
    except SQLAlchemyError:
        log.exception("status query failed")
        reply = texts.BUSY
    await message.reply_text(reply)


async def my_tips(update: Update, context: Context) -> None:
    """查询进度 button: the user's own recent tips."""
    message, user = update.effective_message, update.effective_user
    assert message is not None and user is not None
    svc = services(context)

    def query() -> str:
        with svc.sessions() as session:
            tips = own_tips(session, user.id)
        if not tips:
            return texts.NO_OWN_TIPS
        lines = [texts.OWN_TIPS_HEADER]
        lines += [
            texts.OWN_TIP_LINE.format(
                ticket=t.ticket, status=t.status_label, received=texts.fmt_time(t.received_at, svc.tz)
            )
            for t in tips
        ]
        return "\n".join([*lines, texts.OWN_TIPS_FOOTER])

    try:
        reply = await asyncio.to_thread(query)
    except SQLAlchemyError:
        log.exception("own tips query failed")
        reply = texts.BUSY
    await message.reply_text(reply)


async def rate(update: Update, context: Context) -> None:
    """回访: a satisfaction button under the closure notice."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    try:
        _, tip_id, index = (query.data or "").split(":")
        value = texts.SATISFACTION[int(index)]
    except (ValueError, IndexError):
        await query.answer(texts.STALE_BUTTON)
        return
    svc = services(context)

    def record() -> None:
        with unit_of_work(svc.sessions) as session:
            rate_own_tip(session, user.id, int(tip_id), value)

    try:
        await asyncio.to_thread(record)
    except HotlineError as exc:
        await query.answer(exc.message, show_alert=True)
        return
    except (SQLAlchemyError, StaleDataError):
        log.exception("recording satisfaction failed")
        await query.answer(texts.BUSY, show_alert=True)
        return
    await query.answer(texts.RATE_THANKS.format(value=value))
    original = query.message.text if query.message is not None and hasattr(query.message, "text") else ""
    await query.edit_message_text(f"{original or ''}\n\n{texts.RATE_THANKS.format(value=value)}".strip())


async def stale_button(update: Update, context: Context) -> None:
    """A button of a report that already ended (submitted, cancelled or timed out)."""
    query = update.callback_query
    assert query is not None
    await query.answer(texts.STALE_BUTTON, show_alert=True)


async def nothing_to_cancel(update: Update, context: Context) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(texts.NOTHING_TO_CANCEL, reply_markup=MENU)


async def unknown(update: Update, context: Context) -> None:
    """Stickers, voice and files outside a report."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(texts.UNKNOWN_INPUT, reply_markup=MENU)
