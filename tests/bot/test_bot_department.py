"""A department links its Telegram group with a one-time code and signs (签收) an assignment with a button."""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from jinja2 import ChoiceLoader, FileSystemLoader
from sqlalchemy import select

import bot as bot_package
from bot import pages
from bot.links import create_link_code
from hotline.app import create_app
from hotline.settings import Settings
from models.db import unit_of_work
from models.staff import Department
from models.workorders import Assignment
from tests.bot.harness import Bot, BotRunner
from tests.conftest import LiveServer, serve_app
from tests.factories import PASSWORD, TZ, actor, make_tip, make_user, tech_order
from triage import workorders as wo

GROUP = -100500
PHONE = "13912345678"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def staff_server(bot_settings: Settings) -> Iterator[LiveServer]:
    """The web app with the bot's staff page mounted, as hotline/app.py will."""
    app = create_app(bot_settings, analyser=None)
    app.include_router(pages.router)
    loader = app.state.templates.env.loader
    assert isinstance(loader, ChoiceLoader)
    bot_templates = FileSystemLoader(str(Path(bot_package.__file__).parent / "templates"))
    app.state.templates.env.loader = ChoiceLoader([*loader.loaders, bot_templates])
    yield from serve_app(app)


@contextmanager
def _login(server: LiveServer, username: str) -> Iterator[httpx.Client]:
    with server.client() as client:
        token = CSRF.findall(client.get("/staff/login").text)[0]
        response = client.post(
            "/staff/login", data={"username": username, "password": PASSWORD, "csrf_token": token}
        )
        assert response.status_code == 303
        yield client


def _dispatch_web_tip(bot: BotRunner) -> dict[str, int]:
    receipt = make_tip(bot.sessions, bot.settings, contact=PHONE, name="张三", anonymous=False)
    with unit_of_work(bot.sessions) as session:
        disp = actor(make_user(session, "disp", "dispatcher"))
    with unit_of_work(bot.sessions) as session:
        return {a.department_code: a.id for a in wo.dispatch(session, disp, receipt.tip_id, tech_order(), TZ)}


def test_department_links_its_group_on_the_staff_page_and_signs_with_a_button(
    bot: BotRunner, staff_server: LiveServer
) -> None:
    with unit_of_work(bot.sessions) as session:
        make_user(session, "miit1", "department", "miit")
        make_user(session, "disp0", "dispatcher")
    with _login(staff_server, "miit1") as officer:
        page = officer.get("/staff/telegram")
        assert page.status_code == 200 and "尚未绑定" in page.text
        no_csrf = officer.post("/staff/telegram", data={"action": "code"})
        assert no_csrf.status_code == 403
        token = CSRF.findall(page.text)[0]
        made = officer.post("/staff/telegram", data={"action": "code", "csrf_token": token})
        code = re.search(r'id="link-code">([A-Z0-9]+)<', made.text)
        assert code is not None
    with _login(staff_server, "disp0") as dispatcher:
        assert dispatcher.get("/staff/telegram").status_code == 403
    ids = _dispatch_web_tip(bot)

    async def story(b: Bot) -> None:
        await b.say(f"/link {code.group(1)}", user=777, chat=GROUP)
        assert "已绑定：市工业和信息化局" in b.last(GROUP).text or "已绑定" in b.last(GROUP).text
        # The code works once.
        await b.say(f"/link {code.group(1)}", user=777, chat=-100600)
        assert "无效或已过期" in b.last(-100600).text

        await b.deliver()
        notice = b.last(GROUP)
        assert "【新交办单】" in notice.text and "主办" in notice.text and "中频炉" in notice.text
        assert PHONE not in notice.text and "张三" not in notice.text  # never the reporter's identity
        assert notice.buttons == ["签收"]

        await b.press(notice, "签收", user=777, chat=GROUP)
        assert "已签收（miit1" in b.last(GROUP).text
        calls = await b.press(notice, "签收", user=777, chat=GROUP)  # pressed twice
        answer = next(c for c in calls if c.method == "answerCallbackQuery")
        assert "只有待签收的交办单可以签收" in answer.params["text"]

        # The same button pressed from a chat that is not linked does nothing.
        calls = await b.press(notice, "签收", user=888, chat=888)
        answer = next(c for c in calls if c.method == "answerCallbackQuery")
        assert "尚未绑定" in answer.params["text"]

    bot.run(story)
    with bot.sessions() as session:
        signed = session.get(Assignment, ids["miit"])
        assert signed is not None and signed.status == "accepted"
        other = session.get(Assignment, ids["gov-441622"])
        assert other is not None and other.status == "pending"
        department = session.get(Department, "miit")
        assert department is not None and department.telegram_chat_id == GROUP


def test_a_chat_cannot_sign_for_another_department(bot: BotRunner) -> None:
    """A gov-441622 group pressing a forged 签收 for miit's assignment gets "not found", like the pages."""
    with unit_of_work(bot.sessions) as session:
        gov = actor(make_user(session, "gov1", "department", "gov-441622"))
        code = create_link_code(session, gov).code
    ids = _dispatch_web_tip(bot)

    async def story(b: Bot) -> None:
        await b.say(f"/link {code}", user=1, chat=GROUP)
        await b.deliver()
        notice = b.last(GROUP)
        forged = type(notice)(
            notice.method,
            {
                **notice.params,
                "reply_markup": {
                    "inline_keyboard": [[{"text": "签收", "callback_data": f"sign:{ids['miit']}"}]]
                },
            },
            notice.result,
        )
        calls = await b.press(forged, "签收", user=1, chat=GROUP)
        answer = next(c for c in calls if c.method == "answerCallbackQuery")
        assert "交办单不存在" in answer.params["text"]

    bot.run(story)
    with bot.sessions() as session:
        assert session.scalar(select(Assignment.status).where(Assignment.id == ids["miit"])) == "pending"
