"""The report conversation's steps: one small handler per step, each returning the next state."""

import asyncio
import logging
import secrets
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import TelegramError
from telegram.ext import ContextTypes, ConversationHandler

from bot import texts
from bot.services import BotServices, services
from intake.ratelimit import TELEGRAM_SUBMIT, hit
from intake.service import Receipt, TipSubmission, submit
from models.db import unit_of_work
from triage.errors import HotlineError

log = logging.getLogger(__name__)
Context = ContextTypes.DEFAULT_TYPE

# Conversation states, stored by name in the database.
PROBLEM = "problem"
PHOTOS = "photos"
PLACE = "place"
ENTERPRISE = "enterprise"
ENTERPRISE_PICK = "enterprise_pick"
CONTACT = "contact"
CONFIRM = "confirm"
END = ConversationHandler.END

MIN_TEXT_CHARS = 5
MAX_PLACE_CHARS = 200
PHOTO_TYPES = ("image/jpeg", "image/png", "image/webp")

MENU = ReplyKeyboardMarkup([[texts.BTN_REPORT, texts.BTN_STATUS, texts.BTN_HELP]], resize_keyboard=True)


def _keyboard(*rows: list[Any]) -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(list(rows), resize_keyboard=True, one_time_keyboard=False)


def _draft(context: Context) -> dict[str, Any]:
    assert context.user_data is not None
    draft: dict[str, Any] = context.user_data.setdefault("draft", {})
    return draft


def _new_draft(context: Context) -> dict[str, Any]:
    assert context.user_data is not None
    # The id ties inline buttons to this draft, so a button of an earlier report is recognised as stale.
    context.user_data["draft"] = {"id": secrets.token_hex(4), "photos": []}
    return _draft(context)


def drop_draft(context: Context) -> None:
    if context.user_data is not None:
        context.user_data.pop("draft", None)


def _message(update: Update) -> Message:
    assert update.effective_message is not None
    return update.effective_message


# ---- entry ------------------------------------------------------------------------------------


async def start_report(update: Update, context: Context) -> str:
    _new_draft(context)
    await _message(update).reply_text(texts.ASK_PROBLEM, reply_markup=ReplyKeyboardRemove())
    return PROBLEM


async def start_with_text(update: Update, context: Context) -> str:
    """Free text outside a conversation is taken as the problem description of a new report."""
    _new_draft(context)
    return await problem_text(update, context)


# ---- 1. the problem ---------------------------------------------------------------------------


async def problem_text(update: Update, context: Context) -> str:
    text = (_message(update).text or "").strip()
    limit = services(context).intake.max_text_chars
    if len(text) < MIN_TEXT_CHARS:
        await _message(update).reply_text(texts.PROBLEM_TOO_SHORT)
        return PROBLEM
    if len(text) > limit:
        await _message(update).reply_text(texts.PROBLEM_TOO_LONG.format(limit=limit, length=len(text)))
        return PROBLEM
    _draft(context)["text"] = text
    return await _ask_photos(update, context)


async def problem_not_text(update: Update, context: Context) -> str:
    await _message(update).reply_text(texts.TEXT_ONLY)
    return PROBLEM


# ---- 2. photos --------------------------------------------------------------------------------


async def _ask_photos(update: Update, context: Context) -> str:
    limit = services(context).intake.max_photos
    await _message(update).reply_text(
        texts.ASK_PHOTOS.format(limit=limit, skip=texts.BTN_SKIP_PHOTOS),
        reply_markup=_keyboard([texts.BTN_SKIP_PHOTOS]),
    )
    return PHOTOS


async def _add_photo(update: Update, context: Context, file_id: str, size: int | None) -> str:
    config = services(context).intake
    photos: list[str] = _draft(context).setdefault("photos", [])
    done = _keyboard([texts.BTN_PHOTOS_DONE])
    if len(photos) >= config.max_photos:
        await _message(update).reply_text(
            texts.PHOTO_LIMIT.format(limit=config.max_photos, done=texts.BTN_PHOTOS_DONE), reply_markup=done
        )
        return PHOTOS
    if size is not None and size > config.max_photo_bytes:
        await _message(update).reply_text(texts.PHOTO_TOO_LARGE.format(mb=config.max_photo_bytes // 2**20))
        return PHOTOS
    photos.append(file_id)
    await _message(update).reply_text(
        texts.PHOTO_RECEIVED.format(count=len(photos), done=texts.BTN_PHOTOS_DONE), reply_markup=done
    )
    return PHOTOS


async def photo(update: Update, context: Context) -> str:
    largest = _message(update).photo[-1]
    return await _add_photo(update, context, largest.file_id, largest.file_size)


async def photo_document(update: Update, context: Context) -> str:
    """A photo sent "as a file" (uncompressed) is accepted when it is an image type intake can store."""
    document = _message(update).document
    assert document is not None
    if (document.mime_type or "") not in PHOTO_TYPES:
        await _message(update).reply_text(texts.PHOTO_WRONG_TYPE)
        return PHOTOS
    return await _add_photo(update, context, document.file_id, document.file_size)


async def photos_done(update: Update, context: Context) -> str:
    await _message(update).reply_text(
        texts.ASK_PLACE.format(button=texts.BTN_SEND_LOCATION),
        reply_markup=_keyboard([KeyboardButton(texts.BTN_SEND_LOCATION, request_location=True)]),
    )
    return PLACE


async def photos_other(update: Update, context: Context) -> str:
    await _message(update).reply_text(texts.PHOTOS_EXPECTED.format(done=texts.BTN_PHOTOS_DONE))
    return PHOTOS


# ---- 3. the place -----------------------------------------------------------------------------


async def place_location(update: Update, context: Context) -> str:
    location = _message(update).location
    assert location is not None
    draft = _draft(context)
    draft["latitude"], draft["longitude"] = location.latitude, location.longitude
    return await _ask_enterprise(update, context)


async def place_text(update: Update, context: Context) -> str:
    text = (_message(update).text or "").strip()
    if len(text) > MAX_PLACE_CHARS:
        await _message(update).reply_text(texts.PLACE_TOO_LONG)
        return PLACE
    _draft(context)["place"] = text
    return await _ask_enterprise(update, context)


async def place_other(update: Update, context: Context) -> str:
    await _message(update).reply_text(texts.PLACE_EXPECTED)
    return PLACE


# ---- 4. the enterprise (optional, with "did you mean" from the register) ------------------------


async def _ask_enterprise(update: Update, context: Context) -> str:
    await _message(update).reply_text(
        texts.ASK_ENTERPRISE.format(skip=texts.BTN_SKIP), reply_markup=_keyboard([texts.BTN_SKIP])
    )
    return ENTERPRISE


async def enterprise_text(update: Update, context: Context) -> str:
    typed = (_message(update).text or "").strip()
    if len(typed) > MAX_PLACE_CHARS:
        await _message(update).reply_text(texts.ENTERPRISE_TOO_LONG)
        return ENTERPRISE
    draft = _draft(context)
    draft["enterprise"] = typed
    suggestions = await services(context).suggest(draft.get("text", ""), typed)
    suggestions = [s for s in suggestions if s != typed]
    if not suggestions:
        return await _ask_contact(update, context)
    draft["suggestions"] = suggestions
    rows = [
        [InlineKeyboardButton(name, callback_data=f"ent:{draft['id']}:{i}")]
        for i, name in enumerate(suggestions)
    ]
    rows.append([InlineKeyboardButton(texts.BTN_AS_TYPED, callback_data=f"ent:{draft['id']}:typed")])
    await _message(update).reply_text(texts.DID_YOU_MEAN, reply_markup=InlineKeyboardMarkup(rows))
    return ENTERPRISE_PICK


async def enterprise_skip(update: Update, context: Context) -> str:
    _draft(context).pop("enterprise", None)
    return await _ask_contact(update, context)


async def enterprise_pick(update: Update, context: Context) -> str:
    query = update.callback_query
    assert query is not None
    draft = _draft(context)
    _, draft_id, choice = (query.data or "::").split(":", 2)
    if draft_id != draft.get("id"):
        await query.answer(texts.STALE_BUTTON)
        return ENTERPRISE_PICK
    suggestions: list[str] = draft.pop("suggestions", [])
    if choice.isdigit() and int(choice) < len(suggestions):
        draft["enterprise"] = suggestions[int(choice)]
    await query.answer()
    await query.edit_message_text(f"企业：{draft.get('enterprise', '')}")
    return await _ask_contact(update, context)


async def enterprise_pick_other(update: Update, context: Context) -> str:
    """Typing again instead of pressing a suggestion: take the new text as the enterprise name."""
    _draft(context).pop("suggestions", None)
    return await enterprise_text(update, context)


# ---- 5. contact: anonymous or the Telegram contact button --------------------------------------


async def _ask_contact(update: Update, context: Context) -> str:
    keyboard = _keyboard([texts.BTN_ANONYMOUS], [KeyboardButton(texts.BTN_SHARE_PHONE, request_contact=True)])
    await _message(update).reply_text(texts.ASK_CONTACT, reply_markup=keyboard)
    return CONTACT


async def contact_anonymous(update: Update, context: Context) -> str:
    draft = _draft(context)
    draft["anonymous"], draft["phone"] = True, ""
    return await _confirm(update, context)


async def contact_shared(update: Update, context: Context) -> str:
    contact = _message(update).contact
    assert contact is not None and update.effective_user is not None
    if contact.user_id != update.effective_user.id:
        await _message(update).reply_text(texts.CONTACT_NOT_OWN)
        return CONTACT
    draft = _draft(context)
    draft["anonymous"], draft["phone"] = False, contact.phone_number
    return await _confirm(update, context)


async def contact_other(update: Update, context: Context) -> str:
    await _message(update).reply_text(
        texts.CONTACT_EXPECTED.format(anonymous=texts.BTN_ANONYMOUS, share=texts.BTN_SHARE_PHONE)
    )
    return CONTACT


# ---- 6. confirm and submit --------------------------------------------------------------------


def summary(draft: dict[str, Any]) -> str:
    place = draft.get("place") or ""
    if draft.get("latitude") is not None:
        place = (place + " " if place else "") + f"（位置 {draft['latitude']:.5f}, {draft['longitude']:.5f}）"
    return texts.SUMMARY.format(
        text=draft.get("text", ""),
        photos=len(draft.get("photos", [])),
        place=place or "未填写",
        enterprise=draft.get("enterprise") or "未填写",
        identity="匿名" if draft.get("anonymous", True) else f"实名（手机 {draft.get('phone', '')}）",
        submit=texts.BTN_SUBMIT,
    )


async def _confirm(update: Update, context: Context) -> str:
    draft = _draft(context)
    buttons = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(texts.BTN_SUBMIT, callback_data=f"submit:{draft['id']}"),
                InlineKeyboardButton(texts.BTN_CANCEL, callback_data=f"drop:{draft['id']}"),
            ]
        ]
    )
    # A message carries either a reply keyboard or inline buttons: the first one clears the keyboard.
    await _message(update).reply_text(texts.NOTED, reply_markup=ReplyKeyboardRemove())
    await _message(update).reply_text(summary(draft), reply_markup=buttons)
    return CONFIRM


async def _download_photos(context: Context, file_ids: list[str]) -> list[bytes]:
    photos = []
    for file_id in file_ids:
        file = await context.bot.get_file(file_id)
        photos.append(bytes(await file.download_as_bytearray()))
    return photos


def _submit_limited(svc: BotServices, submission: TipSubmission) -> Receipt:
    """Count the submission against the Telegram user's rate limit, then submit."""
    with unit_of_work(svc.sessions) as session:
        hit(session, TELEGRAM_SUBMIT, f"tg:{submission.telegram_user_id}", svc.intake.secret_key)
    return submit(svc.sessions, submission, svc.intake, triage=svc.triage)


async def confirm_pressed(update: Update, context: Context) -> str | int:
    query = update.callback_query
    assert query is not None and update.effective_user is not None and update.effective_chat is not None
    draft = _draft(context)
    action, _, draft_id = (query.data or ":").partition(":")
    if draft_id != draft.get("id"):
        await query.answer(texts.STALE_BUTTON)
        return CONFIRM
    if action == "drop":
        await query.answer()
        await query.edit_message_text(texts.CANCELLED)
        drop_draft(context)
        return END
    await query.answer(texts.SUBMITTING)
    svc = services(context)
    try:
        photos = await _download_photos(context, draft.get("photos", []))
    except TelegramError:
        log.warning("photo download failed", exc_info=True)
        await _message(update).reply_text(texts.PHOTO_DOWNLOAD_FAILED)
        return CONFIRM
    submission = TipSubmission(
        text=draft.get("text", ""),
        channel="telegram",
        place=draft.get("place", ""),
        enterprise_name=draft.get("enterprise", ""),
        anonymous=bool(draft.get("anonymous", True)),
        contact=draft.get("phone", ""),
        latitude=draft.get("latitude"),
        longitude=draft.get("longitude"),
        telegram_user_id=update.effective_user.id,
        telegram_chat_id=update.effective_chat.id,
        photos=photos,
    )
    try:
        receipt = await asyncio.to_thread(_submit_limited, svc, submission)
    except SQLAlchemyError:
        # submit() commits all or nothing and removes stored photos on failure: a retry starts clean.
        log.exception("submit failed: database unavailable")
        await _message(update).reply_text(texts.SUBMIT_RETRY)
        return CONFIRM
    except HotlineError as exc:
        await _message(update).reply_text(texts.SUBMIT_REJECTED.format(message=exc.message))
        return CONFIRM
    drop_draft(context)
    await query.edit_message_text(summary(draft).rsplit("\n\n", 1)[0])
    await _message(update).reply_text(
        texts.RECEIPT.format(ticket=receipt.ticket, code=receipt.query_code), reply_markup=MENU
    )
    return END


async def confirm_other(update: Update, context: Context) -> str:
    await _message(update).reply_text(
        f"请点上方的“{texts.BTN_SUBMIT}”或“{texts.BTN_CANCEL}”，或发送 /cancel 取消。"
    )
    return CONFIRM


# ---- leaving ----------------------------------------------------------------------------------


async def cancel(update: Update, context: Context) -> int:
    drop_draft(context)
    await _message(update).reply_text(texts.CANCELLED, reply_markup=MENU)
    return END


async def timed_out(update: Update, context: Context) -> None:
    """Called by the conversation's timeout job with the last update of the chat."""
    drop_draft(context)
    if update.effective_user is not None:
        # A job is not an update: without this the dropped draft stays in the database until the user writes.
        context.application.mark_data_for_update_persistence(user_ids=update.effective_user.id)
    if update.effective_chat is not None:
        await tell_timed_out(context, update.effective_chat.id)


async def tell_timed_out(context: Context, chat_id: int) -> None:
    """The one message for a report ended by idleness, live or resumed after a restart."""
    await context.bot.send_message(chat_id, texts.TIMED_OUT, reply_markup=MENU)
