"""One tip's whole way in a real headless Chromium: public form -> dispatch -> department -> review -> 回访.

Each person has a browser context of their own (their own cookies), as they would have their own phone or
PC. Runs on both database backends through the parametrised `server` fixture.
"""

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browsing import log_in, person
from tests.factories import make_user

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
TIP_TEXT = "龙川县老隆镇有个无名厂房每天半夜开中频炉炼钢，黑烟很大，怀疑是地条钢"
RESULT = "经现场核查，该厂房确有中频炉2台，已依法拆除并断电，移交公安机关立案"


@pytest.fixture
def people(db):  # type: ignore[no-untyped-def]
    make_user(db, "disp", "dispatcher")
    make_user(db, "miit1", "department", "miit")
    make_user(db, "gov1", "department", "gov-441622")
    db.commit()


def notice(page: Page, text: str) -> None:
    expect(page.locator("#notice")).to_contain_text(text)


def test_a_tip_goes_from_the_public_form_to_a_satisfied_citizen(browser, server, people, request):  # type: ignore[no-untyped-def]
    backend = request.node.callspec.params.get("db_url", "db")
    ARTIFACTS.mkdir(exist_ok=True)
    citizen, dispatcher_ctx, miit_ctx, gov_ctx = (
        person(browser, server, 390),  # the citizen is on a phone
        person(browser, server),
        person(browser, server),
        person(browser, server, 390),
    )
    try:
        # A citizen reports on the public form and keeps ticket and query code.
        form = citizen.new_page()
        form.goto("/")
        form.fill("#text", TIP_TEXT)
        form.fill("#place", "龙川县老隆镇")
        form.click("button[type=submit]")
        ticket = form.locator("#ticket").inner_text().strip()
        code = form.locator("#query-code").inner_text().strip()
        assert ticket.startswith("HY") and len(code) == 10

        # The dispatcher finds it in the queue (no automatic triage ran: it is unclassified).
        desk = log_in(dispatcher_ctx, "disp")
        expect(desk).to_have_url(f"{server.url}/staff/queue")
        row = desk.locator(f'tr[data-ticket="{ticket}"]')
        expect(row).to_contain_text("未分类")
        desk.screenshot(path=str(ARTIFACTS / f"queue-{backend}.png"), full_page=True)
        row.locator("a").first.click()
        expect(desk.locator("#ticket")).to_have_text(ticket)
        expect(desk.locator("#triage-pending")).to_contain_text(
            "正在自动分拣"
        )  # it may be dispatched by hand

        # Choosing the category lets the routing rule propose the departments (htmx), then corrected by hand.
        desk.select_option("#kind", "tech/ditiaogang")
        desk.select_option("#county_code", "441622")
        expect(desk.locator("#lead")).to_have_value("miit")
        expect(desk.locator('input[name=co_handlers][value="gov-441622"]')).to_be_checked()
        proposed = [
            box.get_attribute("value") for box in desk.locator("input[name=co_handlers]:checked").all()
        ]
        assert len(proposed) > 1  # the rule for 地条钢 brings several co-handlers; keep only the county
        for value in proposed:
            if value != "gov-441622":
                desk.uncheck(f'input[name=co_handlers][value="{value}"]')
        expect(desk.locator("input[name=co_handlers]:checked")).to_have_count(1)
        desk.screenshot(path=str(ARTIFACTS / f"detail-{backend}.png"), full_page=True)
        desk.click("#dispatch-submit")
        notice(desk, "已派单，主办单位：河源市工业和信息化局")
        expect(desk.locator("#tip-status")).to_have_text("已派单")
        expect(desk.locator("#triage-pending")).to_have_count(0)
        expect(desk.locator(".assignment")).to_have_count(2)

        # The lead department signs and asks for more time; the county government signs and replies.
        miit = log_in(miit_ctx, "miit1")
        card = miit.locator(f'article[data-ticket="{ticket}"]')
        card.get_by_role("button", name="签收").click()
        notice(miit, f"已签收 {ticket}")
        card.locator("summary", has_text="申请延期").click()
        card.locator("input[name=days]").fill("5")
        card.locator("textarea[name=reason]").first.fill("需协调供电部门调取用电记录")
        card.get_by_role("button", name="提交延期申请").click()
        notice(miit, "已提交")
        expect(card).to_contain_text("延期待审批")

        gov = log_in(gov_ctx, "gov1")
        gov_card = gov.locator(f'article[data-ticket="{ticket}"]')
        gov_card.get_by_role("button", name="签收").click()
        notice(gov, "已签收")
        gov.screenshot(path=str(ARTIFACTS / f"inbox-phone-{backend}.png"), full_page=True)
        gov_card.locator("textarea[name=text]").fill("镇政府已配合断电并封存厂房")
        gov_card.get_by_role("button", name="提交反馈").click()
        notice(gov, "等待审核")

        # The dispatcher grants the extension.
        desk.reload()
        lead = desk.locator('.assignment[data-department="miit"]')
        lead.get_by_role("button", name="同意延期").click()
        notice(desk, "已同意延期")
        expect(lead).to_contain_text("已延期")

        # The department replies; the dispatcher rejects the thin reply; the department replies again.
        miit.goto(f"/staff/tips/{desk.url.rsplit('/', 1)[-1]}")
        miit.locator("textarea[name=text]").fill("已处理")
        miit.get_by_role("button", name="提交反馈").click()
        notice(miit, "等待审核")
        desk.reload()
        lead.locator("summary", has_text="驳回反馈").click()
        lead.locator("textarea[name=reason]").fill("请写明核查情况和处理措施")
        lead.get_by_role("button", name="驳回，要求重办").click()
        notice(desk, "已驳回反馈")
        expect(lead.locator("[data-role=assignment-status]")).to_have_text("已签收")
        miit.goto("/staff/inbox")
        expect(card).to_contain_text("已签收")
        card.locator("textarea[name=text]").fill(RESULT)
        card.get_by_role("button", name="提交反馈").click()
        notice(miit, "等待审核")

        # The dispatcher approves every assignment: the last approval closes the tip.
        desk.reload()
        desk.locator('.assignment[data-department="gov-441622"]').get_by_role(
            "button", name="审核通过"
        ).click()
        notice(desk, "审核通过")
        lead.get_by_role("button", name="审核通过").click()
        notice(desk, "工单已办结")
        expect(desk.locator("#tip-status")).to_have_text("已办结")
        expect(desk.locator("#history")).to_contain_text("驳回反馈")

        # The citizen sees the result with ticket and code, and rates it.
        status = citizen.new_page()
        status.goto("/status")
        status.fill("#ticket", ticket)
        status.fill("#code", code)
        status.get_by_role("button", name="查询").click()
        expect(status.locator("#status-label")).to_have_text("已办结")
        expect(status.locator("#result")).to_have_text(RESULT)
        status.get_by_role("button", name="满意", exact=True).click()
        expect(status.locator("body")).to_contain_text("您的评价：满意")

        desk.reload()
        expect(desk.locator("#satisfaction")).to_have_text("满意")
        desk.screenshot(path=str(ARTIFACTS / f"detail-closed-{backend}.png"), full_page=True)
    finally:
        for context in (citizen, dispatcher_ctx, miit_ctx, gov_ctx):
            context.close()
