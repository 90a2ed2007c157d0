"""Render outbox rows as Telegram messages: Chinese text and buttons per recipient, cut into parts that fit.

Every message is sent as plain text (no parse_mode): enterprise names, reasons and the digest's Markdown
may hold `_`, `*` or `[`, and with a parse mode one stray character makes Telegram refuse the whole
message. Staff notices (department, dispatchers, bureau) are built from the tip, the assignment and the
catalogue only, never from the Reporter row: they carry the problem, not who reported it.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot import texts
from models.digest import ExitListChange
from models.outbox import OutboxMessage
from models.tips import Tip
from models.workorders import Assignment, AssignmentStatus
from triage.routing import catalogue

# Telegram refuses a message longer than 4,096 characters (counted in UTF-16 code units).
MAX_MESSAGE_CHARS = 4096
TEXT_PREVIEW_CHARS = 300
SHORT_PREVIEW_CHARS = 120
MAX_SUMMARY_ITEMS = 40

Buttons = list[list[tuple[str, str]]]


@dataclass(frozen=True)
class Notice:
    text: str
    buttons: Buttons = field(default_factory=list)


def telegram_length(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji outside the BMP counts twice)."""
    return len(text.encode("utf-16-le")) // 2


def _cut(text: str, limit: int) -> str:
    """The longest prefix of `text` within `limit` UTF-16 units."""
    if telegram_length(text) <= limit:
        return text
    out, used = [], 0
    for ch in text:
        used += telegram_length(ch)
        if used > limit:
            break
        out.append(ch)
    return "".join(out)


def split_message(text: str, limit: int = MAX_MESSAGE_CHARS) -> list[str]:
    """Cut text into parts within `limit`, at line breaks where possible, each marked （i/n） when several.

    Nothing is dropped: joined without their markers, the parts are the original text.
    """
    if telegram_length(text) <= limit:
        return [text]
    marker_room = telegram_length(texts.PART_MARKER.format(index=999, total=999))
    room = limit - marker_room
    chunks: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while telegram_length(line) > room:  # one line longer than a message: cut it hard
            if current:
                chunks.append(current)
                current = ""
            head = _cut(line, room)
            chunks.append(head)
            line = line[len(head) :]
        if telegram_length(current) + telegram_length(line) > room:
            chunks.append(current)
            current = ""
        current += line
    if current:
        chunks.append(current)
    total = len(chunks)
    return [texts.PART_MARKER.format(index=i, total=total) + c for i, c in enumerate(chunks, 1)]


def plain_digest(markdown: str) -> str:
    """The digest's Markdown as plain text that reads well in a chat: headings bracketed, bullets dotted."""
    lines = []
    for line in markdown.splitlines():
        if line.startswith("## "):
            line = f"【{line[3:].strip()}】"
        elif line.startswith("# "):
            line = line[2:].strip()
        elif line.startswith("- "):
            line = "• " + line[2:]
        lines.append(line)
    return "\n".join(lines).strip()


# ---- shared pieces -----------------------------------------------------------------------------


def _local(value: str | None, tz: ZoneInfo) -> str:
    if not value:
        return ""
    try:
        return texts.fmt_time(datetime.fromisoformat(value), tz)
    except ValueError:
        return value


def _days(value: Any) -> str:
    try:
        return f"{float(value):.1f}"
    except (TypeError, ValueError):
        return "?"


def _tip(session: Session, p: dict[str, Any]) -> Tip | None:
    return session.get(Tip, int(p["tip_id"])) if p.get("tip_id") else None


def _assignment(session: Session, p: dict[str, Any]) -> Assignment | None:
    return session.get(Assignment, int(p["assignment_id"])) if p.get("assignment_id") else None


def _category(tip: Tip | None) -> str:
    cat = catalogue()
    if tip is None or tip.category not in cat.categories:
        return "待定"
    name = cat.categories[tip.category].name
    if tip.subtype:
        name += " / " + cat.categories[tip.category].subtypes.get(tip.subtype, tip.subtype)
    return name


def _preview(text: str | None, chars: int) -> str:
    text = (text or "").strip()
    return text if len(text) <= chars else text[:chars] + "…"


def _link(public_url: str, path: str) -> str:
    return texts.DETAIL_LINK.format(url=public_url.rstrip("/") + path) if public_url else ""


def _exit_change(change: ExitListChange | None) -> str:
    if change is None:
        return ""
    text = texts.EXIT_CHANGES.get(change.target_list, change.target_list)
    if change.rectify_by is not None:
        text += texts.EXIT_RECTIFY_BY.format(date=change.rectify_by.isoformat())
    return text


def _generic(msg: OutboxMessage) -> Notice:
    return Notice(texts.GENERIC_NOTICE.format(ticket=(msg.payload or {}).get("ticket", ""), kind=msg.kind))


# ---- per recipient -----------------------------------------------------------------------------


def render_reporter(session: Session, msg: OutboxMessage, tz: ZoneInfo, public_url: str) -> Notice:
    p = msg.payload or {}
    template = texts.REPORTER_NOTICES.get(msg.kind)
    if template is None:
        return _generic(msg)
    text = template.format(
        ticket=p.get("ticket", ""),
        department=p.get("department", "承办单位"),
        result=p.get("result") or "（无）",
        due=_local(p.get("due_at"), tz),
        reason=p.get("reason", ""),
        into=p.get("into", ""),
        target=p.get("target", ""),
    )
    buttons: Buttons = []
    if msg.kind == "tip_closed" and p.get("tip_id"):
        tip = _tip(session, p)
        if tip is not None and tip.satisfaction is None:
            buttons = [[(label, f"rate:{p['tip_id']}:{i}") for i, label in enumerate(texts.SATISFACTION)]]
    return Notice(text, buttons)


def render_department(session: Session, msg: OutboxMessage, tz: ZoneInfo, public_url: str) -> Notice:
    """Department notices carry the problem, never who reported it."""
    p = msg.payload or {}
    template = texts.DEPARTMENT_NOTICES.get(msg.kind)
    if template is None:
        return _generic(msg)
    tip = _tip(session, p)
    assignment = _assignment(session, p)
    pending = assignment is not None and assignment.status == AssignmentStatus.pending
    change = session.get(ExitListChange, int(p["change_id"])) if p.get("change_id") else None
    due = p.get("due_at") or (assignment.due_at.isoformat() if assignment else None)
    note = p.get("note") or ""
    text = template.format(
        ticket=p.get("ticket", ""),
        role="主办" if p.get("lead") or (assignment is not None and assignment.lead) else "协办",
        category=_category(tip),
        place=(tip.place if tip else "") or "未填写",
        text=_preview(tip.text if tip else "", TEXT_PREVIEW_CHARS),
        due=_local(due, tz),
        sign_due=_local(p.get("sign_due_at"), tz),
        days=_days(p.get("days_overdue")),
        action=texts.OVERDUE_ACTION_SIGN if pending else texts.OVERDUE_ACTION_REPLY,
        reason=p.get("reason", ""),
        decision=(
            ("同意延期" if p.get("granted") else "不同意延期")
            if msg.kind == "extension_decided"
            else (texts.EXIT_APPROVED if p.get("approved") else texts.EXIT_REJECTED)
        ),
        reason_line=f"\n理由：{p['reason']}" if p.get("reason") else "",
        name=p.get("name", ""),
        change=_exit_change(change),
        note_line=f"\n说明：{note}" if note else "",
    )
    buttons: Buttons = []
    # The 签收 button only while there is something to sign; a pressed stale button is refused anyway.
    if pending and assignment is not None and msg.kind != "assignment_cancelled":
        buttons = [[(texts.BTN_SIGN, f"sign:{assignment.id}")]]
    return Notice(text, buttons)


def render_dispatchers(session: Session, msg: OutboxMessage, tz: ZoneInfo, public_url: str) -> Notice:
    """Dispatcher notices: what needs their decision, with a link to the tip's page when the URL is known."""
    p = msg.payload or {}
    template = texts.DISPATCHER_NOTICES.get(msg.kind)
    if template is None:
        return _generic(msg)
    cat = catalogue()
    tip = _tip(session, p)
    assignment = _assignment(session, p)
    items = list(p.get("items") or [])
    lines = [
        texts.OVERDUE_ITEM.format(
            ticket=i.get("ticket", ""),
            department=cat.department_name(str(i.get("department", ""))),
            days=_days(i.get("days_overdue")),
        )
        for i in items[:MAX_SUMMARY_ITEMS]
    ]
    if len(items) > MAX_SUMMARY_ITEMS:
        lines.append(texts.OVERDUE_MORE.format(more=len(items) - MAX_SUMMARY_ITEMS))
    text = template.format(
        ticket=p.get("ticket", ""),
        department=cat.department_name(assignment.department_code) if assignment else "承办单位",
        reason=p.get("reason", ""),
        days=p.get("days", "?"),
        due=texts.fmt_time(assignment.due_at, tz) if assignment else "",
        text=_preview(tip.text if tip else "", SHORT_PREVIEW_CHARS),
        count=p.get("count", len(items)),
        items="\n".join(lines),
    )
    if p.get("tip_id"):
        text += _link(public_url, f"/staff/tips/{p['tip_id']}")
    elif msg.kind == "overdue_summary":
        text += _link(public_url, "/staff/queue")
    return Notice(text)


def render_bureau(session: Session, msg: OutboxMessage, tz: ZoneInfo, public_url: str) -> Notice:
    p = msg.payload or {}
    if msg.kind == "weekly_digest":
        if p.get("text"):
            return Notice(
                plain_digest(str(p["text"])) + _link(public_url, f"/staff/digests/{p.get('week', '')}")
            )
        headline = p.get("headline") or {}
        summary = f"新增举报 {headline.get('new_tips', '?')} 件" if headline else ""
        return Notice(texts.DIGEST_FALLBACK.format(week=p.get("week", ""), headline=summary))
    template = texts.BUREAU_NOTICES.get(msg.kind)
    if template is None:
        return _generic(msg)
    change = session.get(ExitListChange, int(p["change_id"])) if p.get("change_id") else None
    proposer = change.proposed_department if change is not None else None
    text = template.format(
        department=catalogue().department_name(proposer) if proposer else "市局",
        name=p.get("name", ""),
        uscc=p.get("uscc", ""),
        change=_exit_change(change),
        reason=_preview(change.reason if change else "", TEXT_PREVIEW_CHARS),
    )
    return Notice(text + _link(public_url, "/staff/lists/proposals"))


Renderer = Callable[[Session, OutboxMessage, ZoneInfo, str], Notice]
RENDERERS: dict[str, Renderer] = {
    "reporter": render_reporter,
    "department": render_department,
    "dispatchers": render_dispatchers,
    "bureau": render_bureau,
}


def render(session: Session, msg: OutboxMessage, tz: ZoneInfo, public_url: str = "") -> Notice:
    return RENDERERS[msg.recipient_kind](session, msg, tz, public_url)
