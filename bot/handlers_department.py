"""Department chats: link a chat with a one-time code, and sign (签收) assignments with a button."""

import asyncio
import logging

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm.exc import StaleDataError
from telegram import Update
from telegram.ext import ContextTypes

from bot import texts
from bot.links import actor_for_chat, redeem_link_code
from bot.services import services
from models.base import utcnow
from models.db import unit_of_work
from triage.errors import HotlineError
from triage.workorders import sign

log = logging.getLogger(__name__)
Context = ContextTypes.DEFAULT_TYPE
CONFLICT = "此交办单已被他人更新，请刷新后重试"


async def link(update: Update, context: Context) -> None:
    """/link CODE, sent in the department's chat (a group or a private chat)."""
    message, chat = update.effective_message, update.effective_chat
    assert message is not None and chat is not None
    if not context.args:
        await message.reply_text(texts.LINK_USAGE)
        return
    svc = services(context)

    def redeem() -> str:
        with unit_of_work(svc.sessions) as session:
            return redeem_link_code(session, context.args[0] if context.args else "", chat.id).name

    try:
        name = await asyncio.to_thread(redeem)
    except HotlineError as exc:
        await message.reply_text(exc.message)
        return
    except SQLAlchemyError:
        log.exception("link failed")
        await message.reply_text(texts.BUSY)
        return
    await message.reply_text(texts.LINKED.format(department=name))


async def sign_pressed(update: Update, context: Context) -> None:
    """签收 under an assignment notice: acts as the chat's linked user, with the pages' permission checks."""
    query, chat = update.callback_query, update.effective_chat
    assert query is not None and chat is not None
    try:
        assignment_id = int((query.data or "").split(":")[1])
    except (IndexError, ValueError):
        await query.answer(texts.STALE_BUTTON)
        return
    svc = services(context)

    def act() -> str:
        with unit_of_work(svc.sessions) as session:
            actor = actor_for_chat(session, chat.id)
            sign(session, actor, assignment_id)
            return actor.display_name

    try:
        who = await asyncio.to_thread(act)
    except HotlineError as exc:
        await query.answer(exc.message, show_alert=True)
        return
    except StaleDataError:
        await query.answer(CONFLICT, show_alert=True)
        return
    except SQLAlchemyError:
        log.exception("sign from Telegram failed")
        await query.answer(texts.BUSY, show_alert=True)
        return
    note = texts.SIGNED.format(who=who, at=texts.fmt_time(utcnow(), svc.tz))
    await query.answer(note)
    original = getattr(query.message, "text", "") or ""
    await query.edit_message_text(f"{original}\n\n✅ {note}".strip())
