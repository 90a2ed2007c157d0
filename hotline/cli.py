"""The `hotline` command: serve, db upgrade, users, demo data, and the triage commands."""

import os
import shutil
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from sqlalchemy.exc import OperationalError

from hotline import backup
from hotline.observability import LOG_CONFIG, MULTIPROCESS_ENV, configure_logging
from hotline.settings import Settings
from models import crypto
from models.db import make_engine, make_sessionmaker, unit_of_work
from triage.accounts import create_token, create_user
from triage.departments import sync_departments
from triage.errors import HotlineError
from triage.retention import purge_reporter_identities, reencrypt_reporter_identities
from triage.routing import catalogue

app = typer.Typer(help="河源市12345 落后产能举报 — tip intake and work orders.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
users_app = typer.Typer(help="Staff accounts.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
console = Console()


@app.callback()
def main() -> None:
    """Every command starts here: reporter identity keys are configured before any query."""
    settings = Settings()
    crypto.configure(settings.reporter_keys())
    crypto.configure_lookup_secret(settings.secret_key)


def _sessions(settings: Settings):  # type: ignore[no-untyped-def]
    return make_sessionmaker(make_engine(settings.database_url))


def _prepare_data_dir(settings: Settings) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply the Alembic migrations and sync departments from the routing catalogue."""
    from models import migrate  # here, like every heavy import only some commands use: start-up time

    settings = Settings()
    _prepare_data_dir(settings)
    migrate.upgrade(settings.database_url, revision)
    with unit_of_work(_sessions(settings)) as session:
        changed = sync_departments(session, catalogue(settings.routing_file))
    console.print(f"database at head; {changed} department(s) added or renamed")


@users_app.command("add")
def users_add(
    username: str,
    role: Annotated[str, typer.Option(help="dispatcher, department, bureau or integration (Open311 client)")],
    department: Annotated[str | None, typer.Option(help="department code, for role=department")] = None,
    name: Annotated[str, typer.Option(help="display name")] = "",
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)] = "",
    token: Annotated[bool, typer.Option(help="also create an API bearer token")] = False,
) -> None:
    """Create a staff user (password hashed with argon2)."""
    settings = Settings()
    try:
        with unit_of_work(_sessions(settings)) as session:
            user = create_user(session, username, password, role, name, department)
            secret = create_token(session, user, "cli") if token else None
    except HotlineError as exc:
        console.print(f"[red]{exc.message}[/red] ({exc.code})")
        raise typer.Exit(2) from None
    console.print(f"user {username} ({role}) created")
    if secret:
        console.print(f"API token (shown once): {secret}")


@app.command("backup")
def backup_command(out: Annotated[Path, typer.Argument(help="the .tar.gz to write")]) -> None:
    """Back up the SQLite database (online, consistent) and the photos."""
    settings = Settings()
    try:
        written = backup.backup(settings.database_url, settings.attachments_dir, out)
    except backup.BackupError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    console.print(f"backup written to {written}")


@app.command("restore")
def restore_command(
    archive: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
    force: Annotated[bool, typer.Option(help="replace an existing database")] = False,
) -> None:
    """Restore a backup made by `hotline backup` (stop the server first)."""
    settings = Settings()
    try:
        backup.restore(archive, settings.database_url, settings.attachments_dir, force)
    except backup.BackupError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    console.print("restored")


@app.command("retention")
def retention_command(
    days: Annotated[
        int, typer.Option(help="purge identities of reporters whose tips all ended this long ago")
    ] = 365,
) -> None:
    """Remove reporter identity (name, contact, Telegram ids) after the retention period."""
    settings = Settings()
    with unit_of_work(_sessions(settings)) as session:
        purged = purge_reporter_identities(session, days)
    console.print(f"{purged} reporter identities purged")


keys_app = typer.Typer(help="Reporter identity encryption keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@keys_app.command("new")
def keys_new() -> None:
    """Print a new key: put it first in HOTLINE_CONTACT_KEYS, keep the old ones after it, then rotate."""
    console.print(crypto.new_key())


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Re-encrypt every stored identity with the first key of HOTLINE_CONTACT_KEYS."""
    settings = Settings()
    with unit_of_work(_sessions(settings)) as session:
        count = reencrypt_reporter_identities(session)
    console.print(f"{count} reporter identities re-encrypted; the old keys can now be removed")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option()] = None,
    port: Annotated[int | None, typer.Option()] = None,
    workers: Annotated[int, typer.Option(help="web worker processes (PostgreSQL for more than one)")] = 1,
    scheduler: Annotated[
        bool, typer.Option(help="also run the scheduled jobs (digest, 督办, reminders)")
    ] = True,
) -> None:
    """Serve the web app (public pages, staff pages, JSON API)."""
    import uvicorn

    settings = Settings()
    host = host or settings.host
    port = port or int(os.environ.get("HOTLINE_PORT", settings.port))
    base = f"http://{host}:{port}"
    console.print(f"公众举报页 {base}/   查询进度 {base}/status")
    console.print(f"工作人员登录 {base}/staff/login   API 文档 {base}/docs")
    configure_logging()
    if scheduler:
        # In the supervising process: one scheduler per `hotline serve`, whatever the worker count;
        # several servers are safe too, since every job run claims its key in the database first.
        from digest.scheduler import start_scheduler  # here: it brings the chart libraries

        start_scheduler(settings)
    metrics_dir = None
    if workers > 1 and not os.environ.get(MULTIPROCESS_ENV):
        # A fresh directory per server: counts from an earlier run must not be added in.
        metrics_dir = tempfile.mkdtemp(prefix="hotline-metrics-")
        os.environ[MULTIPROCESS_ENV] = metrics_dir  # inherited by the workers uvicorn starts
    try:
        uvicorn.run(
            "hotline.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_config=LOG_CONFIG,  # the JSON log lines of hotline.observability, in every worker
            access_log=False,  # RequestContext writes one line per request, without query strings
            proxy_headers=True,
        )
    finally:
        if metrics_dir:
            shutil.rmtree(metrics_dir, ignore_errors=True)


@app.command()
def demo(
    register: Annotated[
        Path | None, typer.Option(help="enterprise register CSV (default: the demo one)")
    ] = None,
) -> None:
    """Migrate, load departments, demo staff accounts, the demo enterprise register and demo tips."""
    from hotline.demo import load_demo
    from models import migrate

    settings = Settings()
    _prepare_data_dir(settings)
    migrate.upgrade(settings.database_url)
    load_demo(settings, console, register)


from hotline.commands.bot import bot_command  # noqa: E402
from hotline.commands.digest import digest_command, report_app, scheduler_command  # noqa: E402
from hotline.commands.triage import classifier_app, enterprises_app, triage_command  # noqa: E402

app.add_typer(enterprises_app, name="enterprises")
app.add_typer(classifier_app, name="classifier")
app.command("triage")(triage_command)
app.command("bot")(bot_command)
app.command("digest")(digest_command)
app.add_typer(report_app, name="report")
app.command("scheduler")(scheduler_command)


def run() -> None:
    """The `hotline` console script: a database that cannot be opened, or a setting that is not valid, is
    one clear line, not a traceback."""
    try:
        app()
    except ValidationError as exc:
        problems = "；".join(str(error["msg"]).removeprefix("Value error, ") for error in exc.errors())
        console.print(f"[red]配置有误（HOTLINE_* 环境变量或 .env）：{problems}[/red]", soft_wrap=True)
        raise SystemExit(2) from None
    except OperationalError as exc:
        console.print(
            f"[red]无法打开或连接数据库：{exc.orig}[/red]\n"
            "请检查 HOTLINE_DATABASE_URL，或先运行 `hotline db upgrade`（演示环境：`hotline demo`）。"
        )
        raise SystemExit(2) from None
