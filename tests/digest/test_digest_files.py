"""A clerk runs `hotline digest --week 2026-W48 --out DIR` and gets the same HTML, Markdown, XLSX and PNGs each time."""

from pathlib import Path

import pytest
import typer
from openpyxl import load_workbook
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from hotline.commands.digest import digest_command
from tests.digest.seed import WEEK, seed_week


def run_digest(tmp: Path, *args: str) -> list[str]:
    app = typer.Typer()
    app.command("digest")(digest_command)
    app.command("unused")(lambda: None)  # two commands, so "digest" is a subcommand as in `hotline`
    result = CliRunner().invoke(app, ["digest", *args])
    assert result.exit_code == 0, result.output
    return sorted(p.name for p in tmp.iterdir())


@pytest.fixture
def cli_env(db: Session, db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    seed_week(db)
    db.commit()
    monkeypatch.setenv("HOTLINE_DATABASE_URL", db_url)
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path / "data"))


@pytest.mark.usefixtures("cli_env")
def test_the_digest_command_writes_every_format_and_regenerates_byte_identical(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    names = run_digest(first, "--week", WEEK, "--out", str(first))
    assert names == [
        "digest-2026-W48-category.png",
        "digest-2026-W48-county.png",
        "digest-2026-W48-rates.png",
        "digest-2026-W48.html",
        "digest-2026-W48.md",
        "digest-2026-W48.xlsx",
    ]
    run_digest(second, "--week", WEEK, "--out", str(second))
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name

    html = (first / "digest-2026-W48.html").read_text(encoding="utf-8")
    assert "河源市落后产能举报周报 2026-W48" in html
    assert 'src="digest-2026-W48-rates.png"' in html
    assert "50.0%" in html and "40.0%" in html and "66.7%" in html
    markdown = (first / "digest-2026-W48.md").read_text(encoding="utf-8")
    assert "- 新增举报：5 件（较上周 +3）" in markdown
    assert "- 龙川县：3（+2）" in markdown
    assert (first / "digest-2026-W48-category.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.usefixtures("cli_env")
def test_the_workbook_has_one_filterable_sheet_per_table_with_a_frozen_header(tmp_path: Path) -> None:
    run_digest(tmp_path, "--week", WEEK, "--out", str(tmp_path))
    wb = load_workbook(tmp_path / "digest-2026-W48.xlsx")
    assert wb.sheetnames == [
        "概况",
        "按类别",
        "按子类",
        "按县区",
        "按渠道",
        "三率",
        "超期交办单",
        "超期按单位",
        "重复举报企业",
        "疑似复产",
        "黄红牌变更",
        "紧急举报",
    ]
    for ws in wb.worksheets:
        assert ws.freeze_panes == "A2", ws.title
        assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1:"), ws.title
    rates = wb["三率"]
    assert [c.value for c in rates[2]][:5] == [None, "全市", 4, 2, 0.5]
    overdue = wb["超期交办单"]
    assert [c.value for c in overdue[2]][2:] == ["HY20261102-000001", "已签收", overdue[2][4].value, 9.0]
    assert overdue[2][4].value.strftime("%Y-%m-%d %H:%M") == "2026-11-20 23:59"


def test_a_malformed_week_is_refused_with_a_clear_message(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOTLINE_DATABASE_URL", db_url)
    app = typer.Typer()
    app.command("digest")(digest_command)
    app.command("unused")(lambda: None)
    result = CliRunner().invoke(app, ["digest", "--week", "2026-48", "--out", "x"])
    assert result.exit_code == 2
    assert "周次格式应为 2026-W48" in result.output
