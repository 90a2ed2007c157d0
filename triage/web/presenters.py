"""What the staff pages show, shaped for templates: history lines, the triage suggestion, dispatch defaults."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.audit import AuditEvent
from models.staff import User
from models.tips import Tip
from triage.labels import CHANNEL, TIP_STATUS
from triage.routing import Catalogue, route

# Staff see every event of a tip (the citizen sees only the public ones, labels.PUBLIC_EVENT).
STAFF_EVENT = {
    "received": "受理",
    "triaged": "自动分拣完成",
    "triage_failed": "自动分拣失败，待人工分拣",
    "dispatched": "派单",
    "signed": "签收",
    "replied": "反馈办理结果",
    "all_replied": "全部承办单位已反馈，待审核",
    "approved": "审核通过",
    "closed": "办结",
    "reply_rejected": "驳回反馈，要求重办",
    "returned": "退单",
    "back_to_queue": "退回分拣队列，待重新派单",
    "extension_requested": "申请延期",
    "extension_granted": "同意延期",
    "extension_refused": "不同意延期",
    "marked_invalid": "标记为无效件",
    "merged": "并入其他工单（重复件）",
    "duplicate_attached": "有重复件并入本工单",
    "transferred": "转办紧急热线",
    "reopened": "重办",
    "rated": "市民回访评价",
    "reporter_viewed": "查看举报人信息",
    "escalated": "超期督办",
}
DUPLICATE_REASON = {"same_enterprise": "同一企业", "similar_text": "内容相近"}
TRIAGE_STATE = {"pending": "分拣中", "done": "已自动分拣", "failed": "待人工分拣"}


@dataclass(frozen=True)
class HistoryLine:
    at: datetime
    label: str
    actor: str
    detail: str


def _local(value: Any, tz: ZoneInfo) -> str:
    try:
        return datetime.fromisoformat(str(value)).astimezone(tz).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return str(value)


def _event_detail(event: AuditEvent, cat: Catalogue, tz: ZoneInfo, actor_department: str | None) -> str:
    d = event.detail or {}
    parts: list[str] = []
    if d.get("channel"):
        parts.append(f"渠道：{CHANNEL.get(d['channel'], d['channel'])}")
    if d.get("category") and event.action in ("dispatched", "triaged"):
        category = cat.categories.get(d["category"])
        name = category.name if category else d["category"]
        if d.get("subtype") and category:
            name += "/" + category.subtypes.get(d["subtype"], d["subtype"])
        parts.append(f"类别：{name}")
    if d.get("lead"):
        parts.append(f"主办：{cat.department_name(d['lead'])}")
    co = [c for c in d.get("departments") or [] if c != d.get("lead")]
    if co:
        parts.append("协办：" + "、".join(cat.department_name(c) for c in co))
    if d.get("department") and d["department"] != actor_department:  # already named with the actor
        parts.append(cat.department_name(d["department"]))
    if d.get("days"):
        parts.append(f"{d['days']}个工作日")
    if d.get("new_due"):
        parts.append(f"新期限：{_local(d['new_due'], tz)}")
    for key, label in (
        ("target", "转至"),
        ("into", "主工单"),
        ("duplicate", "重复件"),
        ("satisfaction", "评价"),
        ("reason", "理由"),
        ("note", "备注"),
    ):
        if d.get(key):
            parts.append(f"{label}：{d[key]}")
    return "；".join(parts)


def history_lines(
    session: Session, events: Iterable[AuditEvent], cat: Catalogue, tz: ZoneInfo
) -> list[HistoryLine]:
    """Audit events in Chinese. Citizens' own labels (e.g. a Telegram id) are never shown: "市民"."""
    events = list(events)
    user_ids = {e.actor_user_id for e in events if e.actor_user_id}
    users = {
        row.id: (row.display_name, row.department_code)
        for row in session.execute(
            select(User.id, User.display_name, User.department_code).where(User.id.in_(user_ids))
        )
    }
    lines = []
    for e in events:
        name, dept = users.get(e.actor_user_id or 0, ("", None))
        if name:
            actor = f"{name}（{cat.department_name(dept)}）" if dept else name
        elif e.actor == "system":
            actor = "系统"
        else:
            actor = "市民"
        lines.append(
            HistoryLine(
                at=e.created_at,
                label=STAFF_EVENT.get(e.action, e.action),
                actor=actor,
                detail=_event_detail(e, cat, tz, dept),
            )
        )
    return lines


@dataclass(frozen=True)
class DispatchDefaults:
    """What the dispatch form starts with: the triage suggestion, or the routing rule for a category."""

    category: str = ""
    subtype: str = ""
    county_code: str = ""
    urgent: bool = False
    lead: str = ""
    co_handlers: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        return f"{self.category}/{self.subtype}" if self.category and self.subtype else ""


def routed_defaults(
    cat: Catalogue, category: str, subtype: str, county_code: str, urgent: bool = False
) -> DispatchDefaults:
    if category not in cat.categories:
        return DispatchDefaults(county_code=county_code, urgent=urgent)
    if subtype not in cat.categories[category].subtypes:
        subtype = next(iter(cat.categories[category].subtypes))
    rule = route(category, subtype, county_code or None, cat)
    return DispatchDefaults(category, subtype, county_code, urgent, rule.lead, tuple(rule.co_handlers))


def dispatch_defaults(tip: Tip, cat: Catalogue) -> DispatchDefaults:
    suggestion = tip.analysis or {}
    if suggestion.get("category") in cat.categories and suggestion.get("lead_department"):
        return DispatchDefaults(
            category=str(suggestion["category"]),
            subtype=str(suggestion.get("subtype") or ""),
            county_code=str(suggestion.get("county_code") or ""),
            urgent=bool(suggestion.get("urgent")),
            lead=str(suggestion["lead_department"]),
            co_handlers=tuple(str(c) for c in suggestion.get("co_handlers") or ()),
        )
    if tip.category:
        return routed_defaults(cat, tip.category, tip.subtype or "", tip.county_code or "", tip.urgent)
    return DispatchDefaults()


def parse_kind(kind: str) -> tuple[str, str]:
    """The form's one select holds "category/subtype", so a subtype can never belong to another category."""
    category, _, subtype = kind.partition("/")
    return category, subtype


@dataclass(frozen=True)
class DuplicateLink:
    tip_id: int
    ticket: str
    status: str
    reason: str
    similarity: float | None


@dataclass(frozen=True)
class Suggestion:
    """The triage engine's proposal, named for people."""

    category: str
    subtype: str
    urgent: bool
    confidence: float | None
    county: str
    town: str
    lead: str
    co_handlers: list[str]
    model: str
    suspected_restart: bool
    enterprise: Mapping[str, Any] | None
    candidates: list[Mapping[str, Any]]
    duplicates: list[DuplicateLink] = field(default_factory=list)


def _duplicate_id(item: Any) -> int | None:
    raw = item.get("tip_id", item.get("id")) if isinstance(item, Mapping) else item
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None


def suggestion_of(session: Session, tip: Tip, cat: Catalogue) -> Suggestion | None:
    a = tip.analysis
    if not a:
        return None
    category = cat.categories.get(str(a.get("category")))
    raw_duplicates = [d for d in a.get("duplicates") or [] if _duplicate_id(d) is not None]
    ids = [i for i in (_duplicate_id(d) for d in raw_duplicates) if i is not None and i != tip.id]
    found = {
        row.id: row for row in session.execute(select(Tip.id, Tip.ticket, Tip.status).where(Tip.id.in_(ids)))
    }
    duplicates = []
    for d in raw_duplicates:
        i = _duplicate_id(d)
        if i in found:
            reason = str(d.get("reason", "")) if isinstance(d, Mapping) else ""
            similarity = d.get("similarity") if isinstance(d, Mapping) else None
            duplicates.append(
                DuplicateLink(
                    tip_id=found[i].id,
                    ticket=found[i].ticket,
                    status=TIP_STATUS.get(found[i].status, found[i].status),
                    reason=DUPLICATE_REASON.get(reason, reason),
                    similarity=float(similarity) if isinstance(similarity, int | float) else None,
                )
            )
    confidence = a.get("confidence")
    return Suggestion(
        category=category.name if category else str(a.get("category") or "—"),
        subtype=category.subtypes.get(str(a.get("subtype")), str(a.get("subtype") or "")) if category else "",
        urgent=bool(a.get("urgent")),
        confidence=float(confidence) if isinstance(confidence, int | float) else None,
        county=cat.counties.get(str(a.get("county_code")), "") if a.get("county_code") else "",
        town=str(a.get("town") or ""),
        lead=cat.department_name(str(a["lead_department"])) if a.get("lead_department") else "",
        co_handlers=[cat.department_name(str(c)) for c in a.get("co_handlers") or []],
        model=str(a.get("model") or ""),
        suspected_restart=bool(a.get("suspected_restart")),
        enterprise=a.get("enterprise") if isinstance(a.get("enterprise"), Mapping) else None,
        candidates=[c for c in a.get("enterprise_candidates") or [] if isinstance(c, Mapping)],
        duplicates=duplicates,
    )
