"""The dispatcher and the engine's suggestions in a real headless Chromium: tips triaged by the shipped
model, the queue marking the suggestion the engine is unsure of (请核对), the evidence highlighted, and
acceptance with one click, kept as a label that the suggestion was not corrected. Both database backends."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from intake.auto_triage import inline_triage
from intake.service import TipSubmission, submit
from models.tips import Tip, TipLabel
from models.workorders import Assignment
from tests.browsing import log_in, person
from tests.factories import TZ, intake_config, make_user
from triage.analysis.engine import TriageEngine, load_model_file
from triage.analysis.register_rows import RegisterRow
from triage.analysis.shared_engine import SHIPPED_MODEL
from triage.queue import CHECK_BELOW_CONFIDENCE

pytestmark = pytest.mark.browser

SURE = "龙川县老隆镇有个无名厂房每天半夜开中频炉炼钢，火光冲天，怀疑是地条钢"
UNSURE = "东源县仙塘镇那边有个厂子晚上一直有响声，不知道在做什么"


def test_the_dispatcher_sees_which_suggestion_to_check_and_accepts_one_with_a_click(  # type: ignore[no-untyped-def]
    browser, server, db, sessions, settings
):
    make_user(db, "disp", "dispatcher")
    db.commit()
    # A one-firm register gives the engine the place names of its county and town; the tips name no firm.
    firm = RegisterRow("91441622MA4W000001", "河源市宏达钢铁有限公司", "441622", "龙川县", "老隆镇", "钢铁")
    engine = TriageEngine([firm], load_model_file(SHIPPED_MODEL))
    triage = inline_triage(sessions, engine.analyse, TZ)
    sure, unsure = (
        submit(sessions, TipSubmission(text=text, channel="web"), intake_config(settings), triage=triage)
        for text in (SURE, UNSURE)
    )
    # The engine is made unsure of the second tip's category, whatever the model said of it.
    tip = db.get(Tip, unsure.tip_id)
    assert tip is not None and tip.triage_state == "done" and tip.analysis
    tip.analysis = {**tip.analysis, "confidence": CHECK_BELOW_CONFIDENCE - 0.15}
    db.commit()
    confident = db.get(Tip, sure.tip_id)
    assert confident is not None and confident.analysis
    assert confident.analysis["confidence"] >= CHECK_BELOW_CONFIDENCE

    context = person(browser, server)
    try:
        desk = log_in(context, "disp")
        expect(desk.locator(f'tr[data-ticket="{unsure.ticket}"] td[data-label="分拣"]')).to_contain_text(
            "请核对"
        )
        sure_row = desk.locator(f'tr[data-ticket="{sure.ticket}"]')
        expect(sure_row.locator('td[data-label="建议类别"]')).to_have_text("技术/地条钢/中频炉")
        expect(sure_row.locator('td[data-label="分拣"]')).to_have_text("已自动分拣")

        desk.goto(f"/staff/tips/{unsure.tip_id}")
        expect(desk.locator("#suggestion-check")).to_have_text("自动分拣对类别把握不大，请核对后再派单。")

        desk.goto(f"/staff/tips/{sure.tip_id}")
        expect(desk.locator("#suggestion-check")).to_have_count(0)
        expect(desk.locator("#suggestion")).to_contain_text("河源市工业和信息化局")
        expect(desk.locator("#suggestion")).to_contain_text("龙川县人民政府")
        expect(desk.locator("mark", has_text="中频炉").first).to_be_visible()
        desk.locator("#accept-suggestion button").click()
        expect(desk.locator("#notice")).to_contain_text("已派单，主办单位：河源市工业和信息化局")
        expect(desk.locator("#tip-status")).to_have_text("已派单")
        expect(desk.locator("#accept-suggestion")).to_have_count(0)
    finally:
        context.close()

    with sessions() as check:
        assignments = check.scalars(select(Assignment).where(Assignment.tip_id == sure.tip_id)).all()
        assert {(a.department_code, a.lead) for a in assignments} >= {("miit", True), ("gov-441622", False)}
        label = check.scalars(select(TipLabel).where(TipLabel.tip_id == sure.tip_id)).one()
        assert (label.category, label.subtype, label.department, label.corrected) == (
            "tech",
            "ditiaogang",
            "miit",
            False,
        )
