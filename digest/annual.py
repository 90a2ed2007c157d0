"""The year-end summary (年度总结) the plan asks for each December: per department and per county, the tips,
the enterprises closed (红牌) or rectified (taken off 黄牌), and the equipment and capacity recorded in replies.

Counts come from SQL. Equipment and capacity are read from the departments' reply texts (办结反馈) with
the patterns below, e.g. "拆除中频炉3台", "2台电弧炉", "压减产能12.5万吨"; a reply that states none counts zero.
"""

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import Session

from digest.render import TEMPLATES_DIR, Cell, save_deterministic, workbook
from models.digest import ExitListChange, ExitListChangeStatus
from models.register import Enterprise
from models.staff import Department
from models.tips import Tip
from models.workorders import Assignment, AssignmentStatus
from triage.routing import Catalogue, catalogue

EQUIPMENT = "中频炉|电弧炉|工频炉|感应炉|冲天炉|化铁炉|立窑|轧机|平板玻璃生产线|生产线"
EQUIPMENT_AFTER = re.compile(rf"({EQUIPMENT})[^\d，。；;,]{{0,4}}?(\d+)\s*(?:台|座|条|套)")
EQUIPMENT_BEFORE = re.compile(rf"(\d+)\s*(?:台|座|条|套)\s*({EQUIPMENT})")
CAPACITY = re.compile(r"(?:产能|年产|规模)[^\d，。；;,]{0,8}?(\d+(?:\.\d+)?)\s*万吨")
COUNTED_REPLIES = (AssignmentStatus.replied, AssignmentStatus.approved)


@dataclass(frozen=True)
class Recorded:
    """Equipment (by kind) and capacity (万吨) stated in reply texts."""

    equipment: dict[str, int] = field(default_factory=dict)
    capacity_wan_tonnes: float = 0.0

    @property
    def equipment_total(self) -> int:
        return sum(self.equipment.values())

    @property
    def equipment_text(self) -> str:
        return "、".join(f"{k}{v}" for k, v in sorted(self.equipment.items())) or "—"


def read_reply(text: str) -> Recorded:
    equipment: dict[str, int] = {}
    spans: list[tuple[int, int]] = []
    # "2台电弧炉" is unambiguous, so it goes first; "中频炉3台" then only where nothing matched yet.
    for pattern, kind_group, count_group in ((EQUIPMENT_BEFORE, 2, 1), (EQUIPMENT_AFTER, 1, 2)):
        for m in pattern.finditer(text):
            if any(m.start() < end and start < m.end() for start, end in spans):
                continue  # the same words matched by both patterns count once
            spans.append(m.span())
            equipment[m.group(kind_group)] = equipment.get(m.group(kind_group), 0) + int(m.group(count_group))
    capacity = sum(float(m.group(1)) for m in CAPACITY.finditer(text))
    return Recorded(equipment, capacity)


def _merge(items: list[Recorded]) -> Recorded:
    equipment: dict[str, int] = {}
    for item in items:
        for k, v in item.equipment.items():
            equipment[k] = equipment.get(k, 0) + v
    return Recorded(equipment, round(sum(i.capacity_wan_tonnes for i in items), 2))


@dataclass(frozen=True)
class AnnualRow:
    code: str
    name: str
    tips: int
    closed: int  # enterprises put on 红牌 in the year
    rectified: int  # enterprises taken off 黄牌 in the year (rectification accepted)
    recorded: Recorded


@dataclass(frozen=True)
class AnnualSummary:
    year: int
    by_department: list[AnnualRow]
    by_county: list[AnnualRow]
    total: AnnualRow


def annual_summary(session: Session, year: int, tz: ZoneInfo, cat: Catalogue | None = None) -> AnnualSummary:
    """Per department: tips it was assigned (any round, not withdrawn), list changes it proposed that the
    bureau approved, equipment and capacity in its replies. Per county: tips located there, approved list
    changes of its enterprises, equipment and capacity in replies on its tips. All within the local year."""
    cat = cat or catalogue()
    start = datetime.combine(date(year, 1, 1), time(0), tz).astimezone(UTC)
    end = datetime.combine(date(year + 1, 1, 1), time(0), tz).astimezone(UTC)
    names = {code: name for code, name in session.execute(select(Department.code, Department.name))}

    dept_tips = {
        str(code): int(n)
        for code, n in session.execute(
            select(Assignment.department_code, func.count(func.distinct(Assignment.tip_id)))
            .where(
                Assignment.created_at >= start, Assignment.created_at < end, Assignment.status != "cancelled"
            )
            .group_by(Assignment.department_code)
        )
    }
    county_key = func.coalesce(Tip.county_code, "")  # one expression: PostgreSQL matches GROUP BY by its bind
    county_tips = {
        str(code): int(n)
        for code, n in session.execute(
            select(county_key, func.count())
            .where(Tip.received_at >= start, Tip.received_at < end)
            .group_by(county_key)
        )
    }
    approved_in_year = and_(
        ExitListChange.status == ExitListChangeStatus.approved,
        ExitListChange.decided_at >= start,
        ExitListChange.decided_at < end,
    )
    proposer = func.coalesce(ExitListChange.proposed_department, "bureau")
    changes_by_dept = {
        str(code): (int(closed), int(rectified))
        for code, closed, rectified in session.execute(
            select(
                proposer,
                _distinct_enterprises(ExitListChange.target_list == "红牌"),
                _distinct_enterprises(
                    and_(ExitListChange.previous_list == "黄牌", ExitListChange.target_list == "")
                ),
            )
            .where(approved_in_year)
            .group_by(proposer)
        )
    }
    changes_by_county = {
        str(code): (int(closed), int(rectified))
        for code, closed, rectified in session.execute(
            select(
                Enterprise.county_code,
                _distinct_enterprises(ExitListChange.target_list == "红牌"),
                _distinct_enterprises(
                    and_(ExitListChange.previous_list == "黄牌", ExitListChange.target_list == "")
                ),
            )
            .join(Enterprise, Enterprise.id == ExitListChange.enterprise_id)
            .where(approved_in_year)
            .group_by(Enterprise.county_code)
        )
    }

    replies = session.execute(
        select(Assignment.department_code, func.coalesce(Tip.county_code, ""), Assignment.reply_text)
        .join(Tip, Tip.id == Assignment.tip_id)
        .where(
            Assignment.status.in_(COUNTED_REPLIES),
            Assignment.replied_at >= start,
            Assignment.replied_at < end,
            Assignment.reply_text.is_not(None),
        )
    ).all()
    by_dept_recorded: dict[str, list[Recorded]] = {}
    by_county_recorded: dict[str, list[Recorded]] = {}
    for dept, tip_county, text in replies:
        found = read_reply(text or "")
        by_dept_recorded.setdefault(dept, []).append(found)
        by_county_recorded.setdefault(tip_county, []).append(found)

    dept_codes = sorted(set(dept_tips) | set(changes_by_dept) | set(by_dept_recorded))
    by_department = [
        AnnualRow(
            code,
            "市工信局（直接列入）" if code == "bureau" else names.get(code, cat.department_name(code)),
            int(dept_tips.get(code, 0)),
            *changes_by_dept.get(code, (0, 0)),
            _merge(by_dept_recorded.get(code, [])),
        )
        for code in dept_codes
    ]
    county_codes = sorted(set(county_tips) | set(changes_by_county) | set(by_county_recorded))
    by_county = [
        AnnualRow(
            code,
            cat.counties.get(code, code) if code else "未定位",
            int(county_tips.get(code, 0)),
            *changes_by_county.get(code, (0, 0)),
            _merge(by_county_recorded.get(code, [])),
        )
        for code in county_codes
    ]
    total = AnnualRow(
        "",
        "全市",
        sum(int(v) for v in county_tips.values()),
        sum(c for c, _ in changes_by_county.values()),
        sum(r for _, r in changes_by_county.values()),
        _merge([found for items in by_county_recorded.values() for found in items]),
    )
    return AnnualSummary(year, by_department, by_county, total)


def _distinct_enterprises(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.count(func.distinct(case((condition, ExitListChange.enterprise_id))))


# ---- formats -------------------------------------------------------------------------------------


def render_annual_html(summary: AnnualSummary) -> str:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES_DIR)), autoescape=select_autoescape(default=True))
    return env.get_template("annual.html").render(s=summary)


def render_annual_xlsx(summary: AnnualSummary) -> bytes:
    header = [
        "代码",
        "名称",
        "举报件数",
        "关停企业（红牌）",
        "完成整改企业",
        "设备（台/座/条/套）",
        "设备明细",
        "产能（万吨）",
    ]

    def rows(items: list[AnnualRow]) -> list[list[Cell]]:
        return [
            [
                r.code,
                r.name,
                r.tips,
                r.closed,
                r.rectified,
                r.recorded.equipment_total,
                r.recorded.equipment_text,
                r.recorded.capacity_wan_tonnes,
            ]
            for r in items
        ]

    sheets = [
        ("按单位", header, rows(summary.by_department)),
        ("按县区", header, rows([*summary.by_county, summary.total])),
    ]
    stamp = datetime(summary.year, 12, 31, 23, 59, 59)
    return save_deterministic(workbook(sheets), stamp)


def write_annual(summary: AnnualSummary, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    html, xlsx = out / f"annual-{summary.year}.html", out / f"annual-{summary.year}.xlsx"
    html.write_text(render_annual_html(summary), encoding="utf-8")
    xlsx.write_bytes(render_annual_xlsx(summary))
    return [html, xlsx]
