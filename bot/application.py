"""Build the python-telegram-bot Application for hotline: handlers, database persistence, the outbox job.

Nothing is built at import time; `build_application(settings, sessions)` is called by `hotline bot` and
by the webhook mount.
"""

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from telegram import Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import texts
from bot.conversation import PRIVATE, last_activity, report_conversation, resume_timeouts
from bot.handlers_department import link, sign_pressed
from bot.handlers_followup import (
    help_,
    my_tips,
    nothing_to_cancel,
    rate,
    stale_button,
    start,
    status,
    unknown,
)
from bot.persistence import DatabasePersistence
from bot.sender import SenderConfig, deliver_due
from bot.services import SERVICES_KEY, BotServices, Suggester, suggester_from_analyser
from hotline.settings import Settings
from intake.auto_triage import Analyser, TipTriage, inline_triage

log = logging.getLogger(__name__)
CONVERSATION_TIMEOUT = timedelta(minutes=30)
SENDER_INTERVAL_SECONDS = 5.0
PERSIST_GROUP = 99


class HotlineApplication(Application[Any, Any, Any, Any, Any, Any]):
    """PTB's Application that, on start, gives reports resumed from the database their timeouts back.

    start() rather than post_init: post_init runs only under run_polling/run_webhook, while the webhook
    mount and the tests call initialize() and start() themselves.
    """

    async def start(self) -> None:
        try:
            active_at = await last_activity(self)
        except Exception:  # the bot still starts; those reports then time out after the user's next message
            log.exception("reading the last activity of resumed reports failed")
            active_at = {}
        await super().start()
        resume_timeouts(self, active_at)  # no await between start and this: no update is handled before


def base_file_url(base_url: str) -> str:
    """The file download root that goes with a Bot API root: …/bot -> …/file/bot."""
    root, _, last = base_url.rstrip("/").rpartition("/")
    return f"{root}/file/{last}"


async def _persist_now(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Write conversation states and drafts after every update, not once a minute: a crash loses nothing."""
    if isinstance(update, Update) and update.effective_user is not None:
        context.application.mark_data_for_update_persistence(user_ids=update.effective_user.id)
    try:
        await context.application.update_persistence()
    except Exception:  # the reply was sent; a failed save only risks re-asking one step after a restart
        log.exception("saving conversation state failed")


async def _on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    log.error("bot handler failed", exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await context.bot.send_message(update.effective_chat.id, texts.BUSY)
        except Exception:
            log.warning("could not tell the user about the failure", exc_info=True)


async def _send_outbox(context: ContextTypes.DEFAULT_TYPE) -> None:
    svc: BotServices = context.application.bot_data[SERVICES_KEY]
    config: SenderConfig = context.application.bot_data["sender_config"]
    await deliver_due(context.bot, svc.sessions, config, svc.tz)


def build_application(
    settings: Settings,
    sessions: sessionmaker[Session],
    *,
    analyser: Analyser | None = None,
    triage: TipTriage | None = None,
    suggester: Suggester | None = None,
    base_url: str | None = None,
    webhook: bool = False,
    conversation_timeout: timedelta = CONVERSATION_TIMEOUT,
    sender: SenderConfig | None = None,
    sender_interval: float | None = SENDER_INTERVAL_SECONDS,
) -> Application[Any, Any, Any, Any, Any, Any]:
    """The bot, wired to the database. webhook=True builds it without an updater (the web app feeds it).

    New tips go to `triage` (the web app's background worker), else are triaged inline by `analyser`.
    """
    if not settings.telegram_token:
        raise ValueError("HOTLINE_TELEGRAM_TOKEN is not set")
    root = (base_url or settings.telegram_base_url).rstrip("/")
    builder = (
        ApplicationBuilder()
        .application_class(HotlineApplication)
        .token(settings.telegram_token)
        .base_url(root)
        .base_file_url(base_file_url(root))
        .persistence(DatabasePersistence(sessions))
    )
    if webhook:
        builder = builder.updater(None)
    application = builder.build()
    intake_config = settings.intake_config()
    if triage is None and analyser is not None:
        triage = inline_triage(sessions, analyser, intake_config.tz)
    application.bot_data[SERVICES_KEY] = BotServices(
        sessions=sessions,
        intake=intake_config,
        triage=triage,
        suggester=suggester or (suggester_from_analyser(analyser) if analyser is not None else None),
        public_url=settings.public_url,
    )
    application.bot_data["sender_config"] = sender or SenderConfig(public_url=settings.public_url)

    # Commands and menu buttons that work anywhere, also in the middle of a report.
    application.add_handler(CommandHandler(["start"], start, filters=PRIVATE))
    application.add_handler(CommandHandler("help", help_))
    application.add_handler(MessageHandler(PRIVATE & filters.Text([texts.BTN_HELP]), help_))
    application.add_handler(CommandHandler("status", status))
    application.add_handler(MessageHandler(PRIVATE & filters.Text([texts.BTN_STATUS]), my_tips))
    application.add_handler(CommandHandler("link", link))
    application.add_handler(CallbackQueryHandler(rate, pattern=r"^rate:"))
    application.add_handler(CallbackQueryHandler(sign_pressed, pattern=r"^sign:"))
    # The report itself.
    application.add_handler(report_conversation(conversation_timeout))
    # What is left: buttons of ended reports, /cancel with nothing to cancel, stickers and the like.
    application.add_handler(CallbackQueryHandler(stale_button))
    application.add_handler(CommandHandler("cancel", nothing_to_cancel))
    application.add_handler(MessageHandler(PRIVATE & ~filters.COMMAND, unknown))
    application.add_handler(TypeHandler(Update, _persist_now), group=PERSIST_GROUP)
    application.add_error_handler(_on_error)

    if sender_interval and application.job_queue is not None:
        application.job_queue.run_repeating(_send_outbox, interval=sender_interval, first=1, name="outbox")
    return application
