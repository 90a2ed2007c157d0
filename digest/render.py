"""A digest in its three formats: HTML (e-mail, archive), Markdown (Telegram, plain text), XLSX (台账).

Every output is a function of the figures alone: no generation time is printed or stored, the XLSX
workbook's timestamps are pinned to the end of the week, so a week rendered again is byte-identical.
"""

import io
import re
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from digest.charts import Chart, digest_charts
from digest.figures import CountRow, Rate, WeeklyDigest

TEMPLATES_DIR = Path(__file__).parent / "templates"
HEADER_FILL = PatternFill("solid", fgColor="DCE6F1")
CORE_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")
CORE_CREATED = re.compile(rb"(<dcterms:created[^>]*>)[^<]*(</dcterms:created>)")


@dataclass(frozen=True)
class DigestFiles:
    """Everything one digest consists of, ready to write to a folder, archive or send."""

    week: str
    html: str
    markdown: str
    xlsx: bytes
    charts: list[Chart]

    @property
    def stem(self) -> str:
        return f"digest-{self.week}"

    def named(self) -> list[tuple[str, str, bytes]]:
        """(file name, content type, bytes) of every file."""
        return [
            (f"{self.stem}.html", "text/html; charset=utf-8", self.html.encode("utf-8")),
            (f"{self.stem}.md", "text/markdown; charset=utf-8", self.markdown.encode("utf-8")),
            (
                f"{self.stem}.xlsx",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                self.xlsx,
            ),
            *((c.name, "image/png", c.png) for c in self.charts),
        ]


def build_files(d: WeeklyDigest, image_src: Callable[[Chart], str] | None = None) -> DigestFiles:
    """Render every format; images are referred to by file name unless `image_src` says otherwise."""
    charts = digest_charts(d)
    return DigestFiles(d.week, render_html(d, charts, image_src), render_markdown(d), render_xlsx(d), charts)


def write_files(files: DigestFiles, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, _type, content in files.named():
        path = out / name
        path.write_bytes(content)
        written.append(path)
    return written


# ---- formatting shared by the formats ------------------------------------------------------------


def local(value: datetime | None, tz: str, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return "" if value is None else value.astimezone(ZoneInfo(tz)).strftime(fmt)


def signed(n: int) -> str:
    return f"+{n}" if n > 0 else str(n)


def hours(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES_DIR)), autoescape=select_autoescape(default=True))
    env.filters["signed"] = signed
    env.filters["hours"] = hours
    return env


# ---- HTML ----------------------------------------------------------------------------------------


def render_html(
    d: WeeklyDigest, charts: Sequence[Chart], image_src: Callable[[Chart], str] | None = None
) -> str:
    src = image_src or (lambda c: c.name)
    template = _environment().get_template("digest.html")
    return template.render(
        d=d,
        charts=[(c, src(c)) for c in charts],
        local=lambda v, fmt="%Y-%m-%d %H:%M": local(v, d.time_zone, fmt),
    )


# ---- Markdown (Telegram, plain text) -------------------------------------------------------------


def _bullets(items: Iterable[str]) -> list[str]:
    """A Markdown list, or "无" when there is nothing to list."""
    return [f"- {item}" for item in items] or ["- 无"]


def _count_lines(rows: list[CountRow], limit: int = 10) -> list[str]:
    return _bullets(f"{r.label}：{r.count}（{signed(r.change)}）" for r in rows[:limit])


def render_markdown(d: WeeklyDigest) -> str:
    """Short sections and lists only, so the text reads well as Markdown and as plain text alike."""
    r = d.rates
    lines = [
        f"# 落后产能举报周报 {d.week}",
        f"{d.week_start:%Y-%m-%d} 至 {d.week_end:%Y-%m-%d}",
        "",
        "## 概况",
        f"- 新增举报：{d.new_tips} 件（较上周 {signed(d.new_tips_change)}）",
        f"- 签收及时率：{r.response.percent}（{r.response.numerator}/{r.response.denominator}）",
        f"- 按时办结率：{r.completion.percent}（{r.completion.numerator}/{r.completion.denominator}）",
        f"- 满意率：{r.satisfaction.percent}（{r.satisfaction.numerator}/{r.satisfaction.denominator}）",
        f"- 派单用时：中位数 {hours(d.dispatch_time.median_hours)} 小时，P90 {hours(d.dispatch_time.p90_hours)} 小时（{d.dispatch_time.count} 件）",
        f"- 办结用时：中位数 {hours(d.completion_time.median_hours)} 小时，P90 {hours(d.completion_time.p90_hours)} 小时（{d.completion_time.count} 件）",
        f"- 超期交办单：{len(d.overdue)} 件",
        f"- 分拣建议采纳（本周派单中经引擎分析的 {d.suggestions.unchanged.denominator} 件）：类别 {d.suggestions.category.percent}，"
        f"主办单位 {d.suggestions.lead_department.percent}，全部未改动 {d.suggestions.unchanged.percent}",
        f"- 其中标记“请核对”的 {d.suggestions.marked_category.denominator} 件类别采纳 {d.suggestions.marked_category.percent}，"
        f"其余 {d.suggestions.unmarked_category.denominator} 件 {d.suggestions.unmarked_category.percent}",
        "",
        "## 按类别",
        *_count_lines(d.by_category),
        "",
        "## 按县区",
        *_count_lines(d.by_county),
        "",
        "## 按渠道",
        *_count_lines(d.by_channel),
        "",
        "## 各单位三率（签收及时 / 按时办结 / 满意）",
        *_bullets(
            f"{x.department_name}：{x.response.percent} / {x.completion.percent} / {x.satisfaction.percent}"
            for x in d.rates_by_department
        ),
        "",
        "## 超期交办单（按单位）",
        *_bullets(
            f"{o.department_name}：{o.count} 件，最长超期 {o.max_days_overdue:.1f} 天"
            for o in d.overdue_by_department
        ),
        "",
        "## 重复举报企业",
        *_bullets(
            f"{e.name}（{e.county}）：本周 {e.tips_in_week} 件，累计 {e.tips_total} 件"
            + (f"，{e.exit_list}" if e.exit_list else "")
            for e in d.repeated_enterprises
        ),
        "",
        "## 疑似复产（红牌企业被举报）",
        *_bullets(
            f"{s.ticket} {s.enterprise_name}（{s.county}）{local(s.received_at, d.time_zone)}"
            for s in d.suspected_restarts
        ),
        "",
        "## 黄牌/红牌名单变更",
        *_bullets(
            f"{c.enterprise_name}：{c.previous_list or '未列入'} → {c.target_list or '移出名单'}"
            + (f"（限期 {c.rectify_by:%Y-%m-%d}）" if c.rectify_by else "")
            for c in d.list_changes
        ),
        "",
        "## 本周紧急举报",
        *_bullets(
            f"{u.ticket} {u.category}/{u.subtype} {u.county} {u.enterprise_name} — {u.status}"
            for u in d.urgent_tips
        ),
        "",
    ]
    return "\n".join(lines)


def telegram_text(d: WeeklyDigest, limit: int = 3500) -> str:
    """The Markdown digest cut to fit one Telegram message (4096 characters), at a line break."""
    text = render_markdown(d)
    if len(text) <= limit:
        return text
    cut = text.rfind("\n", 0, limit)
    return text[:cut] + "\n…（完整周报见邮件或周报存档）\n"


# ---- XLSX (台账) ---------------------------------------------------------------------------------

Cell = str | int | float | date | datetime | None


def _excel_time(value: datetime, tz: str) -> datetime:
    # Excel has no time zones: local wall-clock time, without tzinfo.
    return value.astimezone(ZoneInfo(tz)).replace(tzinfo=None)


def _rate(rate: Rate) -> float | None:
    return None if rate.value is None else round(rate.value, 4)


def _sheets(d: WeeklyDigest) -> list[tuple[str, list[str], list[list[Cell]]]]:
    tz = d.time_zone

    def counts(rows: list[CountRow]) -> list[list[Cell]]:
        return [[r.key, r.label, r.count, r.previous, r.change] for r in rows]

    count_header = ["代码", "名称", "本周", "上周", "增减"]
    rate_header = [
        "单位代码",
        "单位",
        "应签收",
        "按时签收",
        "签收及时率",
        "应办结",
        "按时办结",
        "按时办结率",
        "参评",
        "满意及基本满意",
        "满意率",
    ]

    def rates_row(x: Any) -> list[Cell]:
        return [
            x.department_code,
            x.department_name,
            x.response.denominator,
            x.response.numerator,
            _rate(x.response),
            x.completion.denominator,
            x.completion.numerator,
            _rate(x.completion),
            x.satisfaction.denominator,
            x.satisfaction.numerator,
            _rate(x.satisfaction),
        ]

    return [
        (
            "概况",
            ["指标", "数值"],
            [
                ["周次", d.week],
                ["起始日", d.week_start],
                ["截止日", d.week_end],
                ["新增举报", d.new_tips],
                ["上周新增举报", d.new_tips_previous],
                ["派单件数", d.dispatch_time.count],
                ["派单用时中位数（小时）", d.dispatch_time.median_hours],
                ["派单用时P90（小时）", d.dispatch_time.p90_hours],
                ["办结件数", d.completion_time.count],
                ["办结用时中位数（小时）", d.completion_time.median_hours],
                ["办结用时P90（小时）", d.completion_time.p90_hours],
                ["超期交办单", len(d.overdue)],
                ["紧急举报", len(d.urgent_tips)],
                ["分拣建议：本周派单中经引擎分析的件数", d.suggestions.unchanged.denominator],
                ["分拣建议：类别采纳率", _rate(d.suggestions.category)],
                ["分拣建议：主办单位采纳率", _rate(d.suggestions.lead_department)],
                ["分拣建议：全部未改动率", _rate(d.suggestions.unchanged)],
                ["分拣建议：标记请核对的件数", d.suggestions.marked_category.denominator],
                ["分拣建议：请核对件类别采纳率", _rate(d.suggestions.marked_category)],
                ["分拣建议：其余件类别采纳率", _rate(d.suggestions.unmarked_category)],
            ],
        ),
        ("按类别", count_header, counts(d.by_category)),
        ("按子类", count_header, counts(d.by_subtype)),
        ("按县区", count_header, counts(d.by_county)),
        ("按渠道", count_header, counts(d.by_channel)),
        ("三率", rate_header, [rates_row(d.rates), *(rates_row(x) for x in d.rates_by_department)]),
        (
            "超期交办单",
            ["单位代码", "单位", "工单编号", "状态", "办结期限", "超期天数"],
            [
                [
                    o.department_code,
                    o.department_name,
                    o.ticket,
                    o.status,
                    _excel_time(o.due_at, tz),
                    o.days_overdue,
                ]
                for o in d.overdue
            ],
        ),
        (
            "超期按单位",
            ["单位代码", "单位", "超期件数", "最长超期天数"],
            [
                [o.department_code, o.department_name, o.count, o.max_days_overdue]
                for o in d.overdue_by_department
            ],
        ),
        (
            "重复举报企业",
            ["企业名称", "统一社会信用代码", "县区", "名单", "本周举报", "累计举报"],
            [
                [e.name, e.uscc, e.county, e.exit_list, e.tips_in_week, e.tips_total]
                for e in d.repeated_enterprises
            ],
        ),
        (
            "疑似复产",
            ["工单编号", "受理时间", "企业名称", "统一社会信用代码", "县区", "列入红牌日期"],
            [
                [s.ticket, _excel_time(s.received_at, tz), s.enterprise_name, s.uscc, s.county, s.listed_on]
                for s in d.suspected_restarts
            ],
        ),
        (
            "黄红牌变更",
            ["企业名称", "统一社会信用代码", "县区", "原名单", "新名单", "整改期限", "批准时间", "理由"],
            [
                [
                    c.enterprise_name,
                    c.uscc,
                    c.county,
                    c.previous_list,
                    c.target_list or "移出",
                    c.rectify_by,
                    _excel_time(c.decided_at, tz),
                    c.reason,
                ]
                for c in d.list_changes
            ],
        ),
        (
            "紧急举报",
            ["工单编号", "受理时间", "类别", "子类", "县区", "状态", "企业"],
            [
                [
                    u.ticket,
                    _excel_time(u.received_at, tz),
                    u.category,
                    u.subtype,
                    u.county,
                    u.status,
                    u.enterprise_name,
                ]
                for u in d.urgent_tips
            ],
        ),
    ]


PERCENT_HEADERS = {"签收及时率", "按时办结率", "满意率"}


def workbook(sheets: list[tuple[str, list[str], list[list[Cell]]]]) -> Workbook:
    """One sheet per table: bold header frozen in row 1, autofilter over the table, sensible widths."""
    wb = Workbook()
    wb.remove(wb.active)  # type: ignore[arg-type]
    for title, header, rows in sheets:
        ws = wb.create_sheet(title)
        ws.append(header)
        for row in rows:
            ws.append(row)
        for cell in ws[1]:
            cell.font = Font(bold=True)
            cell.fill = HEADER_FILL
            cell.alignment = Alignment(vertical="center")
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = f"A1:{get_column_letter(len(header))}{max(len(rows) + 1, 2)}"
        for index, name in enumerate(header, start=1):
            letter = get_column_letter(index)
            values = [name, *(r[index - 1] for r in rows[:200])]
            width = max(_display_width(v) for v in values)
            ws.column_dimensions[letter].width = min(max(width + 2, 8), 60)
            for row_cells in ws.iter_rows(min_row=2, min_col=index, max_col=index):
                for cell in row_cells:
                    if name in PERCENT_HEADERS:
                        cell.number_format = "0.0%"
                    elif isinstance(cell.value, datetime):
                        cell.number_format = "yyyy-mm-dd hh:mm"
                    elif isinstance(cell.value, date):
                        cell.number_format = "yyyy-mm-dd"
    return wb


def _display_width(value: Cell) -> int:
    if isinstance(value, datetime):
        return 16
    text = "" if value is None else str(value)
    # CJK characters take two columns in Excel's default font.
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def save_deterministic(wb: Workbook, stamp: datetime) -> bytes:
    """Save with every timestamp (document properties, zip entries) pinned to `stamp`."""
    wb.properties.creator = "hotline"
    wb.properties.created = stamp.replace(tzinfo=None)
    buffer = io.BytesIO()
    wb.save(buffer)
    iso = stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = CORE_MODIFIED.sub(rb"\g<1>" + iso + rb"\g<2>", data)
                data = CORE_CREATED.sub(rb"\g<1>" + iso + rb"\g<2>", data)
            entry = zipfile.ZipInfo(info.filename, date_time=stamp.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            dst.writestr(entry, data)
    return out.getvalue()


def render_xlsx(d: WeeklyDigest) -> bytes:
    end = datetime.combine(d.week_end, datetime.max.time().replace(microsecond=0))
    return save_deterministic(workbook(_sheets(d)), end)
