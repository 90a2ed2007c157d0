"""The bot test harness: the real PTB Application wired to the test database, fed updates, read through the fake."""

import asyncio
import io
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from PIL import Image
from sqlalchemy.orm import Session, sessionmaker
from telegram import Update
from telegram.ext import Application

from bot.application import build_application
from bot.sender import DeliveryReport, RateLimiter, SenderConfig, deliver_due
from bot.services import Suggester
from hotline.settings import Settings
from tests.bot.fake_telegram import Call, FakeTelegram, UpdateFactory

CITIZEN = 424242
NO_RATE_LIMIT = SenderConfig(global_interval=0, per_chat_interval=0)


def jpeg(width: int = 64, height: int = 48) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 80, 40)).save(out, format="JPEG")
    return out.getvalue()


@dataclass
class Bot:
    """One running bot process: feed it updates, read what it sent through the fake server."""

    fake: FakeTelegram
    app: Application[Any, Any, Any, Any, Any, Any]
    sessions: sessionmaker[Session]
    settings: Settings
    updates: UpdateFactory
    seen: int = field(default=0)

    async def send(self, update: dict[str, Any]) -> list[Call]:
        """Feed one update and return the calls the bot made while handling it."""
        before = len(self.fake.calls())
        await self.app.process_update(Update.de_json(update, self.app.bot))
        return self.fake.calls()[before:]

    async def say(self, text: str, user: int = CITIZEN, chat: int | None = None) -> list[Call]:
        return await self.send(self.updates.text(user, text, chat))

    async def press(self, call: Call, label: str, user: int = CITIZEN, chat: int | None = None) -> list[Call]:
        return await self.send(self.updates.press(user, call, label, chat))

    def last(self, chat: int = CITIZEN) -> Call:
        return self.fake.sent(chat)[-1]

    async def deliver(self) -> DeliveryReport:
        tz = self.settings.tz
        return await deliver_due(self.app.bot, self.sessions, NO_RATE_LIMIT, tz, limiter=RateLimiter(0, 0))


BotStory = Callable[[Bot], Coroutine[Any, Any, None]]


@dataclass
class BotRunner:
    fake: FakeTelegram
    settings: Settings
    sessions: sessionmaker[Session]

    def build(
        self,
        suggester: Suggester | None = None,
        timeout: timedelta = timedelta(minutes=30),
        sessions: sessionmaker[Session] | None = None,
    ) -> Application[Any, Any, Any, Any, Any, Any]:
        return build_application(
            self.settings,
            sessions or self.sessions,
            suggester=suggester,
            conversation_timeout=timeout,
            sender=NO_RATE_LIMIT,
            sender_interval=None,
        )

    def run(self, story: BotStory, **build: Any) -> None:
        async def main() -> None:
            app = self.build(**build)
            await app.initialize()
            await app.start()
            try:
                await story(Bot(self.fake, app, self.sessions, self.settings, UpdateFactory(self.fake)))
            finally:
                await app.stop()
                await app.shutdown()

        asyncio.run(main())
