"""The report conversation as one state table: read top to bottom, it is the whole flow.

/start or 举报 or free text -> problem -> photos -> place -> enterprise (-> did you mean) -> contact
-> confirm -> submitted. /cancel works at every step; an idle conversation times out politely, also when
the bot restarted in between (see resume_timeouts).
"""

import logging
import warnings
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    Job,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.ext._utils.types import ConversationKey
from telegram.warnings import PTBUserWarning

from bot import texts
from bot.handlers_report import (
    CONFIRM,
    CONTACT,
    ENTERPRISE,
    ENTERPRISE_PICK,
    PHOTOS,
    PLACE,
    PROBLEM,
    cancel,
    confirm_other,
    confirm_pressed,
    contact_anonymous,
    contact_other,
    contact_shared,
    drop_draft,
    enterprise_pick,
    enterprise_pick_other,
    enterprise_skip,
    enterprise_text,
    photo,
    photo_document,
    photos_done,
    photos_other,
    place_location,
    place_other,
    place_text,
    problem_not_text,
    problem_text,
    start_report,
    start_with_text,
    tell_timed_out,
    timed_out,
)
from bot.persistence import DatabasePersistence

log = logging.getLogger(__name__)
NAME = "report"
PRIVATE = filters.ChatType.PRIVATE
TEXT = filters.TEXT & ~filters.COMMAND


def _button(label: str) -> filters.BaseFilter:
    return filters.Text([label])


def report_conversation(timeout: timedelta) -> ConversationHandler:  # type: ignore[type-arg]
    with warnings.catch_warnings():
        # Inline buttons here belong to the chat's one report, so per-chat tracking is what we want.
        warnings.filterwarnings("ignore", category=PTBUserWarning, message=".*per_message.*")
        return ConversationHandler(
            name=NAME,
            persistent=True,
            conversation_timeout=timeout,
            entry_points=[
                CommandHandler("report", start_report, filters=PRIVATE),
                MessageHandler(PRIVATE & _button(texts.BTN_REPORT), start_report),
                MessageHandler(PRIVATE & TEXT, start_with_text),
            ],
            states={
                PROBLEM: [
                    MessageHandler(TEXT, problem_text),
                    MessageHandler(~filters.COMMAND, problem_not_text),
                ],
                PHOTOS: [
                    MessageHandler(filters.PHOTO, photo),
                    MessageHandler(filters.Document.ALL, photo_document),
                    MessageHandler(
                        _button(texts.BTN_PHOTOS_DONE) | _button(texts.BTN_SKIP_PHOTOS), photos_done
                    ),
                    MessageHandler(~filters.COMMAND, photos_other),
                ],
                PLACE: [
                    MessageHandler(filters.LOCATION, place_location),
                    MessageHandler(TEXT, place_text),
                    MessageHandler(~filters.COMMAND, place_other),
                ],
                ENTERPRISE: [
                    MessageHandler(_button(texts.BTN_SKIP), enterprise_skip),
                    MessageHandler(TEXT, enterprise_text),
                ],
                ENTERPRISE_PICK: [
                    CallbackQueryHandler(enterprise_pick, pattern=r"^ent:"),
                    MessageHandler(TEXT, enterprise_pick_other),
                ],
                CONTACT: [
                    MessageHandler(_button(texts.BTN_ANONYMOUS), contact_anonymous),
                    MessageHandler(filters.CONTACT, contact_shared),
                    MessageHandler(~filters.COMMAND, contact_other),
                ],
                CONFIRM: [
                    CallbackQueryHandler(confirm_pressed, pattern=r"^(submit|drop):"),
                    MessageHandler(~filters.COMMAND, confirm_other),
                ],
                ConversationHandler.TIMEOUT: [TypeHandler(Update, timed_out)],
            },
            fallbacks=[CommandHandler("cancel", cancel)],
        )


# ---- timeouts across a restart ----------------------------------------------------------------
# PTB keeps a conversation's timeout as a job in memory: it dies with the process, while the state
# lives on in the database. Without this, a report abandoned just before a restart stays open forever.


async def last_activity(
    application: Application[Any, Any, Any, Any, Any, Any],
) -> dict[ConversationKey, datetime]:
    """When each report conversation kept in the database last handled an update."""
    persistence = application.persistence
    if not isinstance(persistence, DatabasePersistence):
        return {}
    return await persistence.get_conversation_activity(NAME)


def resume_timeouts(
    application: Application[Any, Any, Any, Any, Any, Any], active_at: dict[ConversationKey, datetime]
) -> None:
    """Give each resumed report its timeout back, counted from its last activity (due at once if idle too long).

    Call it once the job queue runs and before any update is handled; it does not await, so no update
    can slip in between.
    """
    conversation = _report_conversation(application)
    job_queue = application.job_queue
    if conversation is None or job_queue is None or not conversation.conversation_timeout:
        return
    timeout = conversation.conversation_timeout
    if not isinstance(timeout, timedelta):
        timeout = timedelta(seconds=timeout)
    now = datetime.now(UTC)
    for key, last in active_at.items():
        match key:
            case (int() as chat_id, int() as user_id):
                job = job_queue.run_once(
                    _end_resumed_report,
                    max(last + timeout, now),
                    data=conversation,
                    chat_id=chat_id,
                    user_id=user_id,
                    name=f"report timeout {chat_id},{user_id} (resumed)",
                    # A start-up busy sending must not make the scheduler drop a due timeout as misfired.
                    job_kwargs={"misfire_grace_time": None},
                )
                _arm_timeout(conversation, key, job)
            case _:
                log.warning("conversation key %r is not (chat, user): no timeout resumed", key)


async def _end_resumed_report(context: ContextTypes.DEFAULT_TYPE) -> None:
    """A resumed report's time is up: end it the way a live timeout does, unless the user wrote since."""
    job = context.job
    assert job is not None and job.chat_id is not None and job.user_id is not None
    conversation = cast("ConversationHandler[Any]", job.data)
    if not _end_if_still_idle(conversation, (job.chat_id, job.user_id), job):
        return
    drop_draft(context)
    context.application.mark_data_for_update_persistence(user_ids=job.user_id)
    try:
        # The database forgets the report before the user is told, so what they read is already true.
        await context.application.update_persistence()
    except Exception:  # the report is over in memory; the next save of this user retries the draft
        log.exception("saving the end of a timed-out report failed")
    await tell_timed_out(context, job.chat_id)


def _report_conversation(
    application: Application[Any, Any, Any, Any, Any, Any],
) -> ConversationHandler[Any] | None:
    for group in application.handlers.values():
        for handler in group:
            if isinstance(handler, ConversationHandler) and handler.name == NAME:
                return handler
    return None


# ---- ConversationHandler's own timeout bookkeeping ----------------------------------------------
# PTB has no public way to give a conversation a timeout that no update started, nor to end one outside
# an update. Going through the same bookkeeping as its live timeouts means an update from the user
# cancels a resumed timeout exactly as it cancels a live one (handle_update pops and removes the job).
# Neither function awaits, so on one event loop PTB's lock around this bookkeeping is not needed.


def _arm_timeout(conversation: ConversationHandler[Any], key: ConversationKey, job: Job[Any]) -> None:
    conversation.timeout_jobs[key] = job  # public attribute, though not documented


def _end_if_still_idle(conversation: ConversationHandler[Any], key: ConversationKey, job: Job[Any]) -> bool:
    """End the conversation in memory when `job` is still its timeout; False when the user wrote since."""
    if conversation.timeout_jobs.get(key) is not job:
        return False
    del conversation.timeout_jobs[key]
    # Private: what PTB's own _trigger_timeout calls. A tracked delete, so update_persistence() drops the row.
    conversation._update_state(ConversationHandler.END, key)
    return True
