"""How updates arrive: the webhook inside the web app, long polling, and a web app without a token."""

import asyncio
import logging

import pytest
from fastapi import FastAPI

from bot.webhook import SECRET_HEADER, mount_bot
from hotline.app import create_app
from hotline.settings import Settings
from tests.bot.fake_telegram import FakeTelegram, UpdateFactory
from tests.bot.harness import CITIZEN, BotRunner
from tests.conftest import serve_app

SECRET = "webhook-secret-for-tests"


def _app(settings: Settings) -> FastAPI:
    app = create_app(settings, analyser=None)
    if not hasattr(app.state, "bot"):  # until hotline/app.py calls mount_bot itself
        mount_bot(app, settings)
    return app


def test_the_webhook_checks_the_secret_and_ignores_a_repeated_update(
    bot_settings: Settings, fake: FakeTelegram
) -> None:
    settings = bot_settings.model_copy(
        update={
            "telegram_webhook_secret": SECRET,
            "telegram_webhook_url": "https://hotline.example/telegram/webhook",
        }
    )
    update = UpdateFactory(fake).text(CITIZEN, "/start")
    for server in serve_app(_app(settings)):
        with server.client() as client:
            assert client.post("/telegram/webhook", json=update).status_code == 403
            wrong = client.post("/telegram/webhook", json=update, headers={SECRET_HEADER: "guess"})
            assert wrong.status_code == 403
            assert fake.sent(CITIZEN) == []
            ok = client.post("/telegram/webhook", json=update, headers={SECRET_HEADER: SECRET})
            assert ok.status_code == 200 and ok.json() == {"ok": True}
            assert "河源市12345热线" in fake.sent(CITIZEN)[-1].text
            again = client.post("/telegram/webhook", json=update, headers={SECRET_HEADER: SECRET})
            assert again.status_code == 200 and again.json()["duplicate"] is True
            assert len(fake.sent(CITIZEN)) == 1
            assert fake.state.webhook_url == "https://hotline.example/telegram/webhook"
            assert fake.state.webhook_secret == SECRET


def test_without_a_token_the_app_runs_and_says_the_bot_is_off(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        app = _app(settings)
    assert "Telegram bot is off" in caplog.text
    for server in serve_app(app):
        with server.client() as client:
            assert client.get("/healthz").status_code == 200
            assert client.post("/telegram/webhook", json={"update_id": 1}).status_code == 404


def test_long_polling_receives_updates_from_get_updates(bot: BotRunner) -> None:
    async def main() -> None:
        app = bot.build()
        await app.initialize()
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        bot.fake.push_update(UpdateFactory(bot.fake).text(CITIZEN, "帮助"))
        await asyncio.to_thread(bot.fake.wait_for, lambda: bool(bot.fake.sent(CITIZEN)))
        await app.updater.stop()
        await app.stop()
        await app.shutdown()

    asyncio.run(main())
    assert "使用说明" in bot.fake.sent(CITIZEN)[0].text
    assert bot.fake.calls("deleteWebhook")  # polling and a webhook exclude each other
