"""`hotline digest`, `hotline report annual` and `hotline scheduler`: the CLI of scheduled work and reports."""

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from digest.week import IsoWeek
from hotline.settings import Settings
from models.base import utcnow
from models.db import make_engine, make_sessionmaker, unit_of_work
from triage.errors import HotlineError
from triage.routing import catalogue

console = Console()
report_app = typer.Typer(help="Reports: the year-end summary (年度总结).", no_args_is_help=True)


def digest_command(
    week: Annotated[str, typer.Option(help="ISO week, e.g. 2026-W48 (default: the last complete week)")] = "",
    out: Annotated[
        Path, typer.Option(help="folder for digest-WEEK.html/.md/.xlsx and the PNG charts")
    ] = Path("."),
    store: Annotated[
        bool, typer.Option("--archive/--no-archive", help="also store it in the archive")
    ] = False,
) -> None:
    """Write one week's digest (周报) as HTML, Markdown and XLSX with its charts."""
    # Imported here: charts and spreadsheets (matplotlib, openpyxl) take a second that other commands,
    # `hotline triage` above all, should not pay at start-up.
    from digest import archive
    from digest.render import write_files
    from digest.weekly import generate

    settings = Settings()
    engine = make_engine(settings.database_url)
    try:
        iso = IsoWeek.parse(week) if week else IsoWeek.last_complete(utcnow(), settings.tz)
        with unit_of_work(make_sessionmaker(engine)) as session:
            figures, files = generate(session, iso, settings.tz, catalogue(settings.routing_file))
            if store:
                archive.store(session, figures, files)
    except HotlineError as exc:
        console.print(f"[red]{exc.message}[/red] ({exc.code})")
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
    for path in write_files(files, out):
        console.print(str(path))


def scheduler_command() -> None:
    """Run the scheduled jobs alone (周报, 超期督办, 签收提醒) until stopped."""
    from digest.scheduler import scheduler_command as run

    run()


@report_app.command("annual")
def annual_command(
    year: Annotated[int, typer.Option(help="calendar year, e.g. 2026")],
    out: Annotated[Path, typer.Option(help="folder for annual-YEAR.html and annual-YEAR.xlsx")] = Path("."),
) -> None:
    """Write the year-end summary (年度总结) per department and county as HTML and XLSX."""
    from digest.annual import annual_summary, write_annual

    settings = Settings()
    engine = make_engine(settings.database_url)
    try:
        with unit_of_work(make_sessionmaker(engine)) as session:
            summary = annual_summary(session, year, settings.tz, catalogue(settings.routing_file))
    finally:
        engine.dispose()
    for path in write_annual(summary, out):
        console.print(str(path))
