"""`hotline bot`: the Telegram bot by long polling, or `--console`, a terminal chat through the fake Bot API."""

import asyncio
import logging
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from hotline.settings import Settings
from models.db import make_engine, make_sessionmaker

out = Console()
log = logging.getLogger(__name__)
CONSOLE_USER = 10001
CONSOLE_HELP = (
    "终端聊天（假 Telegram 服务器）。直接输入文字即发送消息；按钮文字也可直接输入。\n"
    "  /press N          点上一条消息的第 N 个内联按钮\n"
    "  /loc 纬度 经度     发送位置        /contact 手机号   分享号码\n"
    "  /photo 文件路径    发送照片        /quit            退出"
)


def _analyser(sessions: sessionmaker[Session], settings: Settings) -> Any:
    """The triage engine when it is installed and the register has enterprises; otherwise no suggestions."""
    try:
        from hotline.app import default_analyser
        from models.register import Enterprise

        with sessions() as session:
            if not session.scalar(select(func.count()).select_from(Enterprise)):
                return None
        return default_analyser(sessions, settings.data_dir)
    except Exception:  # optional: the bot works without enterprise suggestions
        log.warning("triage engine unavailable: no enterprise suggestions", exc_info=True)
        return None


def bot_command(
    console: Annotated[
        bool,
        typer.Option("--console", help="chat with the bot in this terminal through a fake Telegram server"),
    ] = False,
) -> None:
    """Run the Telegram bot by long polling (and deliver outbox messages)."""
    logging.basicConfig(level=logging.INFO)
    settings = Settings()
    if console:
        for noisy in ("httpx", "apscheduler", "telegram.ext", "uvicorn"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
        asyncio.run(_console(settings))
        return
    if not settings.telegram_token:
        out.print("[yellow]Telegram bot is off: set HOTLINE_TELEGRAM_TOKEN[/yellow]")
        raise typer.Exit(1)
    from telegram import Update

    from bot.application import build_application

    sessions = make_sessionmaker(make_engine(settings.database_url))
    application = build_application(settings, sessions, analyser=_analyser(sessions, settings))
    out.print("Telegram bot: long polling (Ctrl-C to stop)")
    # run_polling removes a webhook first: one bot token, one way of receiving updates.
    application.run_polling(allowed_updates=Update.ALL_TYPES)


def _more_than(fake: Any, count: int) -> bool:
    return len(fake.sent()) > count


async def _console(settings: Settings) -> None:
    from bot.application import build_application
    from bot.fake_server import Call, FakeTelegram, UpdateFactory
    from models import migrate  # alembic: only this command of the module needs it

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate.upgrade(settings.database_url)
    fake = FakeTelegram().start()
    demo = settings.model_copy(update={"telegram_token": fake.token, "telegram_base_url": fake.base_url})
    sessions = make_sessionmaker(make_engine(demo.database_url))
    updates = UpdateFactory(fake)
    last_with_buttons: list[Call] = []

    def show(call: Call) -> None:
        if call.method in ("sendMessage", "sendPhoto", "editMessageText"):
            prefix = "（已更新）" if call.method == "editMessageText" else ""
            out.print(f"[bold green]机器人[/bold green] {prefix}{call.text}")
            if call.buttons:
                out.print("  " + "  ".join(f"[{i}] {b}" for i, b in enumerate(call.buttons, 1)))
                if (call.params.get("reply_markup") or {}).get("inline_keyboard"):
                    last_with_buttons[:] = [call]
        elif call.method == "answerCallbackQuery" and call.params.get("text"):
            out.print(f"[dim]（提示）{call.params['text']}[/dim]")

    fake.on_call = show
    application = build_application(demo, sessions, analyser=_analyser(sessions, demo), sender_interval=2.0)
    out.print(CONSOLE_HELP)
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0, timeout=1)
        fake.push_update(updates.text(CONSOLE_USER, "/start"))
        await asyncio.to_thread(fake.wait_for, lambda: bool(fake.sent()), 15)
        while True:
            line = (await asyncio.to_thread(input, "> ")).strip()
            if line == "/quit":
                break
            parts = line.split()
            before = len(fake.sent())
            try:
                if parts[:1] == ["/press"] and last_with_buttons:
                    call = last_with_buttons[0]
                    fake.push_update(updates.press(CONSOLE_USER, call, call.buttons[int(parts[1]) - 1]))
                elif parts[:1] == ["/loc"]:
                    fake.push_update(updates.location(CONSOLE_USER, float(parts[1]), float(parts[2])))
                elif parts[:1] == ["/contact"]:
                    fake.push_update(updates.contact(CONSOLE_USER, parts[1]))
                elif parts[:1] == ["/photo"]:
                    fake.push_update(updates.photo(CONSOLE_USER, Path(parts[1]).read_bytes()))
                elif line:
                    fake.push_update(updates.text(CONSOLE_USER, line))
            except (IndexError, ValueError, OSError) as exc:
                out.print(f"[red]{exc}[/red]")
                continue
            try:  # show the answer before the next prompt
                await asyncio.to_thread(fake.wait_for, partial(_more_than, fake, before), 15)
            except AssertionError:
                out.print("[dim]（机器人没有回复）[/dim]")
        await application.updater.stop()
        await application.stop()
    fake.stop()
