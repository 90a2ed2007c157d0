"""In December the bureau writes the year-end summary: tips, enterprises closed or rectified, and the
equipment and capacity the departments recorded in their replies, per department and per county."""

from datetime import datetime
from pathlib import Path

import pytest
import typer
from openpyxl import load_workbook
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from digest.annual import AnnualSummary, annual_summary, read_reply
from hotline.commands.digest import report_app
from models.digest import ExitListChange
from tests.digest.seed import seed_week
from tests.factories import TZ


@pytest.mark.parametrize(
    ("text", "equipment", "capacity"),
    [
        ("拆除中频炉3台，压减产能12.5万吨", {"中频炉": 3}, 12.5),
        ("现场封停2台电弧炉和1座冲天炉，年产5万吨", {"电弧炉": 2, "冲天炉": 1}, 5.0),
        ("已责令停产整改，未发现生产设备", {}, 0.0),
    ],
    ids=["equipment-after", "equipment-before", "nothing-recorded"],
)
def test_equipment_and_capacity_are_read_from_a_reply(
    text: str, equipment: dict[str, int], capacity: float
) -> None:
    found = read_reply(text)
    assert (found.equipment, found.capacity_wan_tonnes) == (equipment, capacity)


@pytest.fixture
def summary(db: Session) -> AnnualSummary:
    seeded = seed_week(db)
    seeded.assignments["A1"].reply_text = "拆除中频炉3台，压减产能12.5万吨"
    seeded.assignments["A4"].reply_text = "封停2台电弧炉，年产5万吨"
    db.add(
        ExitListChange(
            enterprise_id=seeded.enterprises["E1"].id,
            previous_list="黄牌",
            target_list="",
            reason="整改完成，验收合格",
            proposed_department="miit",
            status="approved",
            decided_at=datetime(2026, 12, 10, 10, 0, tzinfo=TZ),
        )
    )
    db.commit()
    return annual_summary(db, 2026, TZ)


def test_the_summary_counts_per_department_and_county(summary: AnnualSummary) -> None:
    by_department = {r.code: (r.tips, r.closed, r.rectified) for r in summary.by_department}
    assert by_department == {
        "amr": (1, 0, 0),
        "bureau": (0, 1, 0),
        "eeb": (2, 0, 0),
        "gov-441621": (1, 0, 0),
        "gov-441622": (1, 0, 0),
        "gov-441625": (1, 0, 0),
        "miit": (2, 0, 1),
    }
    miit = next(r for r in summary.by_department if r.code == "miit")
    assert (miit.recorded.equipment, miit.recorded.capacity_wan_tonnes) == ({"中频炉": 3}, 12.5)
    by_county = {
        r.code: (r.tips, r.closed, r.rectified, r.recorded.equipment_total) for r in summary.by_county
    }
    assert by_county == {
        "441602": (2, 0, 0, 0),
        "441621": (1, 0, 0, 2),
        "441622": (5, 0, 1, 3),
        "441625": (2, 1, 0, 0),
    }
    total = summary.total
    assert (total.tips, total.closed, total.rectified) == (10, 1, 1)
    assert (total.recorded.equipment_total, total.recorded.capacity_wan_tonnes) == (5, 17.5)


def test_report_annual_writes_html_and_xlsx(
    db: Session, db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, summary: AnnualSummary
) -> None:
    monkeypatch.setenv("HOTLINE_DATABASE_URL", db_url)
    app = typer.Typer()
    app.add_typer(report_app, name="report")
    app.command("unused")(lambda: None)
    result = CliRunner().invoke(app, ["report", "annual", "--year", "2026", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    html = (tmp_path / "annual-2026.html").read_text(encoding="utf-8")
    assert "河源市2026年落后产能举报工作年度总结" in html and "17.50 万吨" in html
    wb = load_workbook(tmp_path / "annual-2026.xlsx")
    assert wb.sheetnames == ["按单位", "按县区"]
    last = list(wb["按县区"].values)[-1]
    assert last[1:6] == ("全市", 10, 1, 1, 5) and last[7] == 17.5
