"""The Telegram webhook inside the FastAPI app: `POST /telegram/webhook`, and `mount_bot(app, settings)`.

The secret token header is checked, and an update id seen before is acknowledged and ignored (Telegram
redelivers an update when it did not get an answer in time). The PTB Application is started on the
app's startup, or on the first webhook call when the app runs without lifespan events.
"""

import asyncio
import hmac
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import IntegrityError
from telegram import Update
from telegram.ext import Application

from bot.application import build_application
from hotline.settings import Settings
from models.bot import ProcessedUpdate
from models.db import unit_of_work

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class BotRuntime:
    """The web app's bot: built once, started once, fed by the webhook route."""

    def __init__(self, application: Application[Any, Any, Any, Any, Any, Any], settings: Settings) -> None:
        self.application = application
        self.settings = settings
        self._lock = asyncio.Lock()
        self._started = False

    async def ensure_started(self) -> None:
        async with self._lock:
            if self._started:
                return
            await self.application.initialize()
            await self.application.start()
            self._started = True
            if self.settings.telegram_webhook_url:
                await self.application.bot.set_webhook(
                    self.settings.telegram_webhook_url,
                    secret_token=self.settings.telegram_webhook_secret or None,
                    allowed_updates=Update.ALL_TYPES,
                )

    async def stop(self) -> None:
        async with self._lock:
            if self._started:
                await self.application.stop()
                await self.application.shutdown()
                self._started = False


def first_time_seen(sessions: Any, update_id: int) -> bool:
    """Record the update id; False when it was recorded before (a redelivery)."""
    try:
        with unit_of_work(sessions) as session:
            session.add(ProcessedUpdate(update_id=update_id))
    except IntegrityError:
        return False
    return True


router = APIRouter(include_in_schema=False)


@router.post("/telegram/webhook")
async def telegram_webhook(request: Request) -> Response:
    runtime: BotRuntime | None = getattr(request.app.state, "bot", None)
    if runtime is None:
        return JSONResponse({"error": "bot_off", "message": "Telegram 机器人未启用"}, status_code=404)
    expected = runtime.settings.telegram_webhook_secret
    sent = request.headers.get(SECRET_HEADER, "")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        return JSONResponse({"error": "forbidden", "message": "secret token mismatch"}, status_code=403)
    try:
        data = await request.json()
        update_id = int(data["update_id"])
    except (ValueError, KeyError, TypeError):
        return JSONResponse({"error": "invalid_update"}, status_code=400)
    if not await asyncio.to_thread(first_time_seen, request.app.state.sessions, update_id):
        return JSONResponse({"ok": True, "duplicate": True})
    await runtime.ensure_started()
    # Handled before answering: Telegram sends the chat's next update only after this one is answered.
    await runtime.application.process_update(Update.de_json(data, runtime.application.bot))
    return JSONResponse({"ok": True})


def mount_bot(app: FastAPI, settings: Settings) -> None:
    """Add the webhook and start the bot with the app; without a token, only say that the bot is off."""
    if not settings.telegram_token:
        log.info("Telegram bot is off (HOTLINE_TELEGRAM_TOKEN is not set)")
        return
    if not settings.telegram_webhook_secret:
        log.warning("HOTLINE_TELEGRAM_WEBHOOK_SECRET is not set: the webhook refuses every call")
    application = build_application(
        settings,
        app.state.sessions,
        analyser=getattr(app.state, "analyser", None),
        triage=getattr(app.state, "triage", None),
        webhook=True,
    )
    runtime = BotRuntime(application, settings)
    app.state.bot = runtime
    app.include_router(router)
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a: Any) -> AsyncIterator[Any]:
        async with inner(a) as state:
            await runtime.ensure_started()
            try:
                yield state
            finally:
                await runtime.stop()

    app.router.lifespan_context = lifespan
