"""Import the enterprise register (企业名录) from CSV or XLSX: validated, idempotent upsert by USCC."""

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from models import Enterprise
from triage.errors import ValidationFailed
from triage.uscc import uscc_error

COLUMNS = (
    "uscc", "name", "county_code", "county", "town", "address", "industry", "industry_code",
    "legal_rep", "founded", "reg_capital_wan", "reg_status", "exit_list", "exit_list_date",
)  # fmt: skip
REQUIRED = ("uscc", "name", "county_code", "county")
EXIT_LISTS = ("", "黄牌", "红牌")
BATCH = 2000

ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class RowError:
    line: int
    uscc: str
    message: str


@dataclass
class ImportReport:
    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _read_csv(path: Path) -> tuple[int, Iterator[tuple[int, dict[str, str]]]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        total = max(sum(1 for _ in fh) - 1, 0)

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            header = [h.strip() for h in next(reader, [])]
            _check_header(header)
            for raw in reader:
                if not any(c.strip() for c in raw):
                    continue
                # reader.line_num is the line the record ended on: that is what an editor shows.
                yield reader.line_num, {h: _cell(v) for h, v in zip(header, raw, strict=False)}

    return total, rows()


def _read_xlsx(path: Path) -> tuple[int, Iterator[tuple[int, dict[str, str]]]]:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True)
    sheet = book.worksheets[0]
    total = max((sheet.max_row or 1) - 1, 0)

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        try:
            it = sheet.iter_rows(values_only=True)
            header = [_cell(h) for h in next(it, ())]
            _check_header(header)
            for offset, raw in enumerate(it, start=2):
                if not any(_cell(c) for c in raw):
                    continue
                yield offset, {h: _cell(v) for h, v in zip(header, raw, strict=False)}
        finally:
            book.close()

    return total, rows()


def _check_header(header: list[str]) -> None:
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise ValidationFailed(f"表头缺少列: {', '.join(missing)}", code="bad_header")


def _parse_date(text: str, column: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise ValueError(f"{column} is not a date (YYYY-MM-DD): {text!r}") from None


def _parse_row(raw: dict[str, str]) -> dict[str, Any]:
    """Column values as the table wants them; raises ValueError with a readable reason."""
    for column in REQUIRED:
        if not raw.get(column):
            raise ValueError(f"{column} is empty")
    uscc = raw["uscc"].upper()
    problem = uscc_error(uscc)
    if problem:
        raise ValueError(problem)
    county_code = raw["county_code"]
    if not (len(county_code) == 6 and county_code.isdigit()):
        raise ValueError(f"county_code must be 6 digits: {county_code!r}")
    exit_list = raw.get("exit_list", "")
    if exit_list not in EXIT_LISTS:
        raise ValueError(f"exit_list must be empty, 黄牌 or 红牌: {exit_list!r}")
    capital: Decimal | None = None
    if raw.get("reg_capital_wan"):
        try:
            capital = Decimal(raw["reg_capital_wan"]).quantize(Decimal("0.01"))
        except InvalidOperation:
            raise ValueError(f"reg_capital_wan is not a number: {raw['reg_capital_wan']!r}") from None
    return {
        "uscc": uscc,
        "name": raw["name"],
        "county_code": county_code,
        "county": raw["county"],
        "town": raw.get("town", ""),
        "address": raw.get("address", ""),
        "industry": raw.get("industry", ""),
        "industry_code": raw.get("industry_code", ""),
        "legal_rep": raw.get("legal_rep", ""),
        "founded": _parse_date(raw.get("founded", ""), "founded"),
        "reg_capital_wan": capital,
        "reg_status": raw.get("reg_status", "") or "存续",
        "exit_list": exit_list,
        "exit_list_date": _parse_date(raw.get("exit_list_date", ""), "exit_list_date"),
    }


def _comparable(value: Any) -> Any:
    if isinstance(value, Decimal | float | int) and not isinstance(value, bool):
        return Decimal(str(value)).quantize(Decimal("0.01"))
    return value


def _existing(session: Session) -> dict[str, tuple[int, dict[str, Any]]]:
    """USCC -> (id, values) for the whole register in one query, to decide insert/update/unchanged."""
    cols = [getattr(Enterprise, c) for c in COLUMNS]
    out: dict[str, tuple[int, dict[str, Any]]] = {}
    for row in session.execute(select(Enterprise.id, *cols)):
        values = {c: _comparable(v) for c, v in zip(COLUMNS, row[1:], strict=True)}
        out[values["uscc"]] = (row[0], values)
    return out


def import_enterprises(
    session: Session, path: Path, on_progress: ProgressCallback | None = None
) -> ImportReport:
    """Upsert every valid row of `path` (CSV or XLSX) by USCC; bad rows are reported by line, not fatal.

    Adds and flushes; the caller commits. Re-importing the same file changes nothing (not even updated_at).
    """
    suffix = path.suffix.lower()
    if suffix == ".csv":
        total, rows = _read_csv(path)
    elif suffix in (".xlsx", ".xlsm"):
        total, rows = _read_xlsx(path)
    else:
        raise ValidationFailed(f"不支持的文件类型 {suffix}: 请使用 CSV 或 XLSX", code="bad_file_type")

    report = ImportReport()
    existing = _existing(session)
    seen: dict[str, int] = {}
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    now = datetime.now(UTC)

    def flush_batches() -> None:
        if inserts:
            session.execute(insert(Enterprise), inserts)
            inserts.clear()
        if updates:
            session.execute(update(Enterprise), updates)
            updates.clear()

    for line, raw in rows:
        report.rows += 1
        try:
            values = _parse_row(raw)
        except ValueError as exc:
            report.errors.append(RowError(line, raw.get("uscc", ""), str(exc)))
        else:
            uscc = values["uscc"]
            if uscc in seen:
                report.errors.append(RowError(line, uscc, f"duplicate USCC, first on line {seen[uscc]}"))
            else:
                seen[uscc] = line
                known = existing.get(uscc)
                if known is None:
                    inserts.append({**values, "updated_at": now})
                    report.inserted += 1
                elif known[1] == {c: _comparable(v) for c, v in values.items()}:
                    report.unchanged += 1
                else:
                    updates.append({**values, "id": known[0], "updated_at": now})
                    report.updated += 1
        if len(inserts) + len(updates) >= BATCH:
            flush_batches()
        if on_progress and report.rows % 500 == 0:
            on_progress(report.rows, total)
    flush_batches()
    session.flush()
    if on_progress:
        on_progress(report.rows, max(total, report.rows))
    return report
