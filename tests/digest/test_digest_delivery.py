"""The bureau receives the digest by e-mail (a real local SMTP server) and reads the archive on its pages."""

import email
import email.policy
from collections.abc import Iterator
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
import time_machine
from aiosmtpd.controller import Controller
from jinja2 import FileSystemLoader
from playwright.sync_api import Browser, expect
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from digest import pages
from digest.mail import deliver_pending
from digest.render import TEMPLATES_DIR
from digest.scheduler import JobContext, weekly_digest_job
from digest.settings import DigestSettings
from hotline.app import create_app
from hotline.settings import Settings
from models.outbox import OutboxMessage
from tests.browsing import log_in, person
from tests.conftest import LiveServer, _free_port, serve_app
from tests.digest.seed import seed_suggestions, seed_week
from tests.factories import TZ, make_token, make_user

MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=TZ)


class Inbox:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def mail_cfg(port: int) -> DigestSettings:
    return DigestSettings(
        smtp_host="127.0.0.1",
        smtp_port=port,
        digest_email_from="hotline@example.org",
        digest_email_to="bureau@example.org, director@example.org",
    )


def test_the_monday_digest_is_emailed_with_inline_charts_and_the_workbook(
    settings: Settings, sessions: sessionmaker[Session], db: Session, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    seed_week(db)
    db.commit()
    with time_machine.travel(MONDAY, tick=False):
        assert weekly_digest_job(JobContext(settings, mail_cfg(port), sessions)) == "2026-W48"

    assert len(inbox.messages) == 1
    sender, recipients, msg = inbox.messages[0]
    assert sender == "hotline@example.org"
    assert recipients == ["bureau@example.org", "director@example.org"]
    assert msg["Subject"] == "河源市落后产能举报周报 2026-W48"
    text = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    assert text is not None and "- 新增举报：5 件（较上周 +3）" in text.get_content()
    assert html is not None
    images = [p for p in msg.walk() if p.get_content_type() == "image/png"]
    assert len(images) == 3
    for image in images:
        assert f'src="cid:{str(image["Content-ID"]).strip().strip("<>")}"' in html.get_content()
    attachments = [p.get_filename() for p in msg.iter_attachments()]
    assert attachments == ["digest-2026-W48.xlsx"]

    db.expire_all()
    rows = db.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "weekly_digest").order_by(OutboxMessage.id)
    )
    assert [(m.channel, m.recipient_kind, m.status) for m in rows] == [
        ("telegram", "bureau", "pending"),  # the bot's sender delivers it to the bureau's chat
        ("email", "bureau", "sent"),
    ]


def test_an_unreachable_smtp_server_leaves_the_email_to_be_retried(
    settings: Settings, sessions: sessionmaker[Session], db: Session, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    seed_week(db)
    db.commit()
    down = mail_cfg(_free_port())  # nothing listens there
    with time_machine.travel(MONDAY, tick=False):
        weekly_digest_job(JobContext(settings, down, sessions))
    db.expire_all()
    mail = db.scalars(select(OutboxMessage).where(OutboxMessage.channel == "email")).one()
    assert (mail.status, mail.attempts) == ("pending", 1)
    assert mail.last_error
    # Later the server is back: the retry after the back-off delivers it, once.
    with time_machine.travel(MONDAY + timedelta(minutes=3), tick=False):
        assert deliver_pending(sessions, mail_cfg(port), datetime.now(TZ)) == 1
        assert deliver_pending(sessions, mail_cfg(port), datetime.now(TZ)) == 0
    assert len(inbox.messages) == 1


@pytest.fixture
def digest_server(settings: Settings) -> Iterator[LiveServer]:
    app = create_app(settings, analyser=None)
    if not any(getattr(r, "path", "") == "/staff/digests" for r in app.routes):
        app.include_router(pages.router)
        app.state.templates.env.loader.loaders.append(FileSystemLoader(str(TEMPLATES_DIR)))
    yield from serve_app(app)


def test_the_bureau_lists_and_downloads_archived_digests_and_a_department_cannot(
    settings: Settings, sessions: sessionmaker[Session], db: Session, digest_server: LiveServer
) -> None:
    seed_week(db)
    bureau = make_token(db, make_user(db, "bureau1", "bureau"))
    dispatcher = make_token(db, make_user(db, "disp1", "dispatcher"))
    department = make_token(db, make_user(db, "miit1", "department", "miit"))
    db.commit()
    with time_machine.travel(MONDAY, tick=False):
        weekly_digest_job(JobContext(settings, DigestSettings(smtp_host=""), sessions))

    with digest_server.client(bureau) as client:
        listing = client.get("/staff/digests")
        assert listing.status_code == 200
        assert "2026-W48" in listing.text and "50.0%" in listing.text
        page = client.get("/staff/digests/2026-W48/digest-2026-W48.html")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "河源市落后产能举报周报 2026-W48" in page.text
        chart = client.get("/staff/digests/2026-W48/digest-2026-W48-rates.png")  # as the HTML refers to it
        assert chart.headers["content-type"] == "image/png" and chart.content[:4] == b"\x89PNG"
        workbook = client.get("/staff/digests/2026-W48/digest-2026-W48.xlsx")
        assert workbook.headers["content-disposition"] == 'attachment; filename="digest-2026-W48.xlsx"'
        assert workbook.content[:2] == b"PK"
        assert client.get("/staff/digests/2026-W47/digest-2026-W47.html").status_code == 404
    with digest_server.client(dispatcher) as client:
        assert client.get("/staff/digests").status_code == 200
    with digest_server.client(department) as client:
        assert client.get("/staff/digests").status_code == 403
        assert client.get("/staff/digests/2026-W48/digest-2026-W48.xlsx").status_code == 403
    with digest_server.client() as client:
        assert client.get("/staff/digests").status_code in (303, 401)


@pytest.mark.browser
def test_the_bureau_reads_the_digest_with_the_engines_suggestion_rates_in_chromium(
    settings: Settings,
    sessions: sessionmaker[Session],
    db: Session,
    digest_server: LiveServer,
    browser: Browser,
) -> None:
    seed_suggestions(db, seed_week(db))
    make_user(db, "bureau1", "bureau")
    db.commit()
    with time_machine.travel(MONDAY, tick=False):
        weekly_digest_job(JobContext(settings, DigestSettings(smtp_host=""), sessions))
    context = person(browser, digest_server)
    try:
        page = log_in(context, "bureau1")
        page.goto("/staff/digests/2026-W48")

        expect(page.locator("h1")).to_contain_text("2026-W48")
        kpis = page.locator(".kpi")
        expect(kpis.filter(has_text="分拣建议类别采纳率")).to_contain_text("66.7%")
        expect(kpis.filter(has_text="分拣建议类别采纳率")).to_contain_text("2/3")
        expect(kpis.filter(has_text="主办单位采纳率")).to_contain_text("66.7%")
        expect(kpis.filter(has_text="请核对件类别采纳率")).to_contain_text("0/1")
    finally:
        context.close()
