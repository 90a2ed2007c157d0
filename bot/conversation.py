"""The report conversation as one state table: read top to bottom, it is the whole flow.

/start or 举报 or free text -> problem -> photos -> place -> enterprise (-> did you mean) -> contact
-> confirm -> submitted. /cancel works at every step; an idle conversation times out politely.
"""

import warnings
from datetime import timedelta

from telegram import Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
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
    timed_out,
)

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
