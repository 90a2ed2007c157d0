"""Importing the enterprise register: idempotent upsert, bad rows reported by line, XLSX too."""

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Base, Enterprise
from models.db import make_engine, make_sessionmaker
from triage.register import COLUMNS, import_enterprises

GOOD = [
    ["914416257633558894", "河源市海润家具有限公司", "441625", "东源县", "漳溪畲族乡", "地址1", "家具制造", "2190",
     "朱磊娜", "2006-06-11", "800", "存续", "", ""],
    ["91441624421905270Q", "河源达新贸易有限公司", "441624", "和平县", "下车镇", "地址2", "批发", "5199", "魏娟浩",
     "2003-09-15", "30", "存续", "红牌", "2023-05-01"],
]  # fmt: skip


@pytest.fixture()
def session(tmp_path: Path) -> Iterator[Session]:
    engine = make_engine(f"sqlite:///{tmp_path / 'register.db'}")
    Base.metadata.create_all(engine)
    with make_sessionmaker(engine)() as s:
        yield s


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        writer.writerows(rows)
    return path


def test_import_twice_changes_nothing_the_second_time(session: Session, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "e.csv", GOOD)
    first = import_enterprises(session, path)
    session.commit()
    stamp = session.scalar(select(func.max(Enterprise.updated_at)))
    second = import_enterprises(session, path)
    session.commit()
    assert (first.inserted, first.updated) == (2, 0)
    assert (second.inserted, second.updated, second.unchanged) == (0, 0, 2)
    assert session.scalar(select(func.count(Enterprise.id))) == 2
    assert session.scalar(select(func.max(Enterprise.updated_at))) == stamp


def test_a_changed_row_is_updated_not_duplicated(session: Session, tmp_path: Path) -> None:
    import_enterprises(session, write_csv(tmp_path / "a.csv", GOOD))
    changed = [GOOD[0][:12] + ["黄牌", "2024-01-02"], GOOD[1]]
    report = import_enterprises(session, write_csv(tmp_path / "b.csv", changed))
    session.commit()
    assert (report.inserted, report.updated, report.unchanged) == (0, 1, 1)
    firm = session.scalars(select(Enterprise).where(Enterprise.uscc == GOOD[0][0])).one()
    assert firm.exit_list == "黄牌"


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (["914416257633558895", *GOOD[0][1:]], "check character"),
        (["", *GOOD[0][1:]], "uscc is empty"),
        ([GOOD[0][0], "", *GOOD[0][2:]], "name is empty"),
        ([*GOOD[0][:12], "蓝牌", ""], "exit_list"),
        ([*GOOD[0][:9], "2006/13/45", *GOOD[0][10:]], "founded"),
        ([*GOOD[0][:10], "很多", *GOOD[0][11:]], "reg_capital_wan"),
    ],
    ids=["bad-check-digit", "no-uscc", "no-name", "unknown-list", "bad-date", "bad-capital"],
)
def test_bad_rows_are_reported_by_line_and_the_rest_imported(
    session: Session, tmp_path: Path, bad: list[str], message: str
) -> None:
    report = import_enterprises(session, write_csv(tmp_path / "e.csv", [GOOD[1], bad]))
    assert report.inserted == 1
    assert [(e.line, message in e.message) for e in report.errors] == [(3, True)]


def test_duplicate_uscc_in_one_file_is_reported(session: Session, tmp_path: Path) -> None:
    report = import_enterprises(session, write_csv(tmp_path / "e.csv", [GOOD[0], GOOD[1], GOOD[0]]))
    assert report.inserted == 2
    assert report.errors[0].line == 4 and "duplicate" in report.errors[0].message


def test_xlsx_is_read_like_csv(session: Session, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(list(COLUMNS))
    for row in GOOD:
        sheet.append(row)
    sheet.append(["914416257633558895", *GOOD[0][1:]])
    path = tmp_path / "e.xlsx"
    book.save(path)
    progress: list[tuple[int, int]] = []
    report = import_enterprises(session, path, lambda done, total: progress.append((done, total)))
    assert report.inserted == 2
    assert report.errors[0].line == 4
    assert progress[-1] == (3, 3)
