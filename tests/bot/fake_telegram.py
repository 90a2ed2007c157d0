"""The fake Telegram Bot API server for the bot tests (implemented in bot/fake_server.py, shared with the console)."""

from bot.fake_server import BOT_ID, Call, FakeTelegram, UpdateFactory

__all__ = ["BOT_ID", "Call", "FakeTelegram", "UpdateFactory"]
