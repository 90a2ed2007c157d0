"""Fixtures for the bot tests: a fake Bot API server and a runner for the real PTB Application."""

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from hotline.settings import Settings
from tests.bot.fake_telegram import FakeTelegram
from tests.bot.harness import BotRunner


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as server:
        yield server


@pytest.fixture
def bot_settings(settings: Settings, fake: FakeTelegram) -> Settings:
    return settings.model_copy(update={"telegram_token": fake.token, "telegram_base_url": fake.base_url})


@pytest.fixture
def bot(fake: FakeTelegram, bot_settings: Settings, sessions: sessionmaker[Session]) -> BotRunner:
    return BotRunner(fake, bot_settings, sessions)
