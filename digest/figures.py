"""The figures of one ISO week's digest (周报), each computed by SQL aggregation into a typed WeeklyDigest.

Every figure is defined on timestamps inside the week [Monday 00:00, next Monday 00:00) in the bureau's
time zone, so a week's digest generated again later gives the same figures unless past rows were edited.
Percentiles use the nearest-rank method (the value at rank ceil(p·n) of the sorted durations), computed
with window functions that SQLite and PostgreSQL both have.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, distinct, func, literal, or_, select
from sqlalchemy.orm import Session

from digest.week import IsoWeek
from models.audit import AuditEvent
from models.digest import ExitListChange, ExitListChangeStatus
from models.register import Enterprise
from models.staff import Department
from models.tips import Tip, TipLabel, TipStatus, TriageState
from models.workorders import Assignment, AssignmentStatus
from triage import labels
from triage.queue import unsure
from triage.routing import Catalogue, catalogue

# Assignments that left the work (returned as not this department's duty, or withdrawn) count in no rate.
NOT_COUNTED = (AssignmentStatus.returned, AssignmentStatus.cancelled)
DONE = (AssignmentStatus.replied, AssignmentStatus.approved)
SATISFIED = ("满意", "基本满意")
RED, YELLOW = "红牌", "黄牌"
UNCLASSIFIED, UNLOCATED = "未分类", "未定位"


@dataclass(frozen=True)
class CountRow:
    """New tips with one key (category, subtype, county or channel), this week and the week before."""

    key: str
    label: str
    count: int
    previous: int

    @property
    def change(self) -> int:
        return self.count - self.previous


@dataclass(frozen=True)
class DurationStats:
    """How long something took, in hours: the number of cases, the median and the 90th percentile."""

    count: int
    median_hours: float | None
    p90_hours: float | None


@dataclass(frozen=True)
class Rate:
    """A share: numerator out of denominator; `value` is None when nothing fell due."""

    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None

    @property
    def percent(self) -> str:
        return "—" if self.value is None else f"{self.value * 100:.1f}%"


@dataclass(frozen=True)
class SuggestionQuality:
    """How the triage engine's suggestions fared against the dispatchers' decisions (派单) of the week: each
    rate counts the dispatches, in the week, of tips the engine had analysed (a tip dispatched again counts
    again). This is the engine's accuracy on real tips, measured as it works."""

    category: Rate  # the category was kept
    lead_department: Rate  # the lead department (主办单位) was kept
    unchanged: Rate  # category, subtype, lead department, urgency and county all kept
    # The category kept, apart for the suggestions the queue marked 请核对 (triage.queue.unsure) and the
    # others: whether the mark points at the suggestions that need a dispatcher's eye.
    marked_category: Rate
    unmarked_category: Rate


@dataclass(frozen=True)
class ThreeRates:
    """三率 for all departments or one.

    - response 签收及时率: assignments whose sign-off deadline (sign_due_at) fell in the week, not returned
      or withdrawn; counted when signed (签收) at or before sign_due_at.
    - completion 按时办结率: assignments whose completion deadline (due_at, after any granted extension)
      fell in the week, not returned or withdrawn; counted when the department's reply stands (replied or
      approved) and was given at or before due_at.
    - satisfaction 满意率: tips rated (回访, the audit event `rated`) in the week; counted when rated 满意 or
      基本满意. Per department, a tip counts for the lead (主办) department whose assignment was approved.
    """

    department_code: str
    department_name: str
    response: Rate
    completion: Rate
    satisfaction: Rate


@dataclass(frozen=True)
class OverdueAssignment:
    """An assignment still not completed at the end of the week although its due_at had passed."""

    department_code: str
    department_name: str
    ticket: str
    status: str
    due_at: datetime
    days_overdue: float  # from due_at to the end of the week, in days, one decimal


@dataclass(frozen=True)
class OverdueByDepartment:
    department_code: str
    department_name: str
    count: int
    max_days_overdue: float


@dataclass(frozen=True)
class RepeatedEnterprise:
    """An enterprise named in two or more tips received in the week."""

    enterprise_id: int
    name: str
    uscc: str
    county: str
    exit_list: str
    tips_in_week: int
    tips_total: int  # every tip about it received before the end of the week


@dataclass(frozen=True)
class SuspectedRestart:
    """A tip received in the week about an enterprise on the 红牌 (closed) list since before the tip."""

    ticket: str
    received_at: datetime
    enterprise_name: str
    uscc: str
    county: str
    listed_on: date | None


@dataclass(frozen=True)
class ListChange:
    """A 黄牌/红牌 change the bureau approved during the week."""

    enterprise_name: str
    uscc: str
    county: str
    previous_list: str
    target_list: str
    rectify_by: date | None
    decided_at: datetime
    reason: str


@dataclass(frozen=True)
class UrgentTip:
    ticket: str
    received_at: datetime
    category: str
    subtype: str
    county: str
    status: str
    enterprise_name: str


@dataclass(frozen=True)
class WeeklyDigest:
    """All figures of one week, in the order the digest shows them."""

    week: str
    week_start: date
    week_end: date  # the Sunday
    time_zone: str
    new_tips: int
    new_tips_previous: int
    by_category: list[CountRow]
    by_subtype: list[CountRow]
    by_county: list[CountRow]
    by_channel: list[CountRow]
    dispatch_time: DurationStats  # received → dispatched, for tips dispatched in the week
    completion_time: DurationStats  # received → closed (办结), for tips closed in the week
    rates: ThreeRates
    rates_by_department: list[ThreeRates]
    suggestions: SuggestionQuality
    overdue: list[OverdueAssignment]
    overdue_by_department: list[OverdueByDepartment]
    repeated_enterprises: list[RepeatedEnterprise]
    suspected_restarts: list[SuspectedRestart]
    list_changes: list[ListChange]
    urgent_tips: list[UrgentTip]
    notes: list[str] = field(default_factory=list)

    @property
    def new_tips_change(self) -> int:
        return self.new_tips - self.new_tips_previous

    def headline(self) -> dict[str, Any]:
        """The few figures kept beside the archive for lists and messages."""
        return {
            "week": self.week,
            "new_tips": self.new_tips,
            "new_tips_change": self.new_tips_change,
            "response_rate": self.rates.response.percent,
            "completion_rate": self.rates.completion.percent,
            "satisfaction_rate": self.rates.satisfaction.percent,
            "suggestion_category_kept": self.suggestions.category.percent,
            "overdue": len(self.overdue),
            "urgent": len(self.urgent_tips),
            "suspected_restarts": len(self.suspected_restarts),
        }


def weekly_digest(
    session: Session, week: IsoWeek, tz: ZoneInfo, cat: Catalogue | None = None
) -> WeeklyDigest:
    """Compute every figure of `week` (see the dataclasses for the definitions)."""
    cat = cat or catalogue()
    start, end = week.start(tz), week.end(tz)
    prev_start = week.previous().start(tz)
    names = _department_names(session, cat)

    by_category = _counts(session, Tip.category, prev_start, start, end, cat_label(cat))
    by_subtype = _counts(session, Tip.subtype, prev_start, start, end, subtype_label(cat))
    by_county = _counts(
        session, Tip.county_code, prev_start, start, end, lambda k: cat.counties.get(k, k) if k else UNLOCATED
    )
    by_channel = _counts(session, Tip.channel, prev_start, start, end, lambda k: labels.CHANNEL.get(k, k))
    dialect = session.get_bind().dialect.name
    return WeeklyDigest(
        week=week.label,
        week_start=week.monday,
        week_end=week.sunday,
        time_zone=tz.key,
        new_tips=sum(r.count for r in by_channel),
        new_tips_previous=sum(r.previous for r in by_channel),
        by_category=by_category,
        by_subtype=by_subtype,
        by_county=by_county,
        by_channel=by_channel,
        dispatch_time=_durations(
            session,
            dialect,
            Tip.dispatched_at,
            Tip.received_at,
            and_(Tip.dispatched_at >= start, Tip.dispatched_at < end),
        ),
        completion_time=_durations(
            session,
            dialect,
            Tip.closed_at,
            Tip.received_at,
            and_(Tip.status == TipStatus.closed, Tip.closed_at >= start, Tip.closed_at < end),
        ),
        rates=_rates(session, start, end, None, names)[0],
        rates_by_department=_rates(session, start, end, Assignment.department_code, names),
        suggestions=_suggestions(session, start, end),
        overdue=_overdue(session, end, names),
        overdue_by_department=_overdue_by_department(session, end, names),
        repeated_enterprises=_repeated(session, start, end),
        suspected_restarts=_restarts(session, start, end, tz),
        list_changes=_list_changes(session, start, end),
        urgent_tips=_urgent(session, start, end, cat),
    )


# ---- labels --------------------------------------------------------------------------------------


def cat_label(cat: Catalogue) -> Any:
    return lambda k: cat.categories[k].name if k in cat.categories else (k or UNCLASSIFIED)


def subtype_label(cat: Catalogue) -> Any:
    subtypes = {code: name for c in cat.categories.values() for code, name in c.subtypes.items()}
    return lambda k: subtypes.get(k, k) if k else UNCLASSIFIED


def _department_names(session: Session, cat: Catalogue) -> dict[str, str]:
    names = {code: name for code, name in session.execute(select(Department.code, Department.name))}
    return {**{c: cat.department_name(c) for c in cat.all_department_codes()}, **names}


# ---- new tips ------------------------------------------------------------------------------------


def _counts(
    session: Session,
    column: Any,
    prev_start: datetime,
    start: datetime,
    end: datetime,
    label: Any,
) -> list[CountRow]:
    """New tips per key: received in the week, and in the week before (for the change)."""
    this_week = func.sum(case((Tip.received_at >= start, 1), else_=0))
    key = func.coalesce(column, "")
    rows = session.execute(
        select(key, this_week, func.count() - this_week)
        .where(Tip.received_at >= prev_start, Tip.received_at < end)
        .group_by(key)
    ).all()
    result = [CountRow(str(k), label(str(k)), int(cur or 0), int(prev or 0)) for k, cur, prev in rows]
    return sorted(result, key=lambda r: (-r.count, -r.previous, r.key))


# ---- durations -----------------------------------------------------------------------------------


def seconds_between(dialect: str, later: Any, earlier: Any) -> ColumnElement[Any]:
    """later - earlier in seconds, as SQL for the backend in use."""
    if dialect == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def _durations(
    session: Session, dialect: str, later: Any, earlier: Any, where: ColumnElement[bool]
) -> DurationStats:
    seconds = seconds_between(dialect, later, earlier).label("s")
    ranked = select(
        seconds,
        func.row_number().over(order_by=seconds).label("rn"),
        func.count().over().label("n"),
    ).where(where)
    sub = ranked.subquery()
    # Nearest rank: ceil(n/2) = (n+1)/2 and ceil(9n/10) = (9n+9)/10 in integer arithmetic on both backends.
    row = session.execute(
        select(
            func.max(sub.c.n),
            func.max(case((sub.c.rn == (sub.c.n + 1) // 2, sub.c.s))),
            func.max(case((sub.c.rn == (sub.c.n * 9 + 9) // 10, sub.c.s))),
        )
    ).one()
    n, median, p90 = row
    return DurationStats(int(n or 0), _hours(median), _hours(p90))


def _hours(seconds: Any) -> float | None:
    return None if seconds is None else round(float(seconds) / 3600.0, 1)


# ---- the three rates -----------------------------------------------------------------------------


_Dispatch = tuple[
    str, str, bool, dict[str, Any]
]  # the dispatcher's category, lead, corrected; the suggestion


def _suggestions(session: Session, start: datetime, end: datetime) -> SuggestionQuality:
    """Compared in Python: the suggestion is JSON in `tips.analysis`, and a week has a few hundred dispatches."""
    rows = session.execute(
        select(TipLabel.category, TipLabel.department, TipLabel.corrected, Tip.analysis)
        .join(Tip, Tip.id == TipLabel.tip_id)
        .where(TipLabel.created_at >= start, TipLabel.created_at < end, Tip.triage_state == TriageState.done)
    ).all()
    suggested = [
        (category, lead, corrected, a) for category, lead, corrected, a in rows if isinstance(a, dict)
    ]
    n = len(suggested)
    marked: list[_Dispatch] = []  # the queue showed these as 请核对
    unmarked: list[_Dispatch] = []
    for row in suggested:
        (marked if unsure(row[3]) else unmarked).append(row)

    def category_kept(rows: list[_Dispatch]) -> Rate:
        return Rate(sum(a.get("category") == category for category, _, _, a in rows), len(rows))

    return SuggestionQuality(
        category=category_kept(suggested),
        lead_department=Rate(sum(a.get("lead_department") == lead for _, lead, _, a in suggested), n),
        unchanged=Rate(sum(not corrected for _, _, corrected, _ in suggested), n),
        marked_category=category_kept(marked),
        unmarked_category=category_kept(unmarked),
    )


def _rates(
    session: Session,
    start: datetime,
    end: datetime,
    group: Any | None,
    names: dict[str, str],
) -> list[ThreeRates]:
    counted = Assignment.status.not_in(NOT_COUNTED)
    sign_due = and_(counted, Assignment.sign_due_at >= start, Assignment.sign_due_at < end)
    signed_in_time = and_(
        sign_due, Assignment.signed_at.is_not(None), Assignment.signed_at <= Assignment.sign_due_at
    )
    complete_due = and_(counted, Assignment.due_at >= start, Assignment.due_at < end)
    done_in_time = and_(
        complete_due,
        Assignment.status.in_(DONE),
        Assignment.replied_at.is_not(None),
        Assignment.replied_at <= Assignment.due_at,
    )
    keys: list[Any] = [] if group is None else [group]
    due_rows = session.execute(
        select(
            *(keys or [literal("")]),
            func.sum(case((sign_due, 1), else_=0)),
            func.sum(case((signed_in_time, 1), else_=0)),
            func.sum(case((complete_due, 1), else_=0)),
            func.sum(case((done_in_time, 1), else_=0)),
        )
        .where(
            counted,
            ((Assignment.sign_due_at >= start) & (Assignment.sign_due_at < end))
            | ((Assignment.due_at >= start) & (Assignment.due_at < end)),
        )
        .group_by(*keys)
    ).all()

    rated = (
        select(AuditEvent.tip_id)
        .where(AuditEvent.action == "rated", AuditEvent.created_at >= start, AuditEvent.created_at < end)
        .subquery()
    )
    satisfied = case((Tip.satisfaction.in_(SATISFIED), Tip.id))
    sat_query = (
        select(*(keys or [literal("")]), func.count(distinct(Tip.id)), func.count(distinct(satisfied)))
        .select_from(Tip)
        .join(rated, rated.c.tip_id == Tip.id)
        .where(Tip.satisfaction.is_not(None))
        .group_by(*keys)
    )
    if group is not None:
        sat_query = sat_query.join(
            Assignment,
            and_(
                Assignment.tip_id == Tip.id,
                Assignment.lead.is_(True),
                Assignment.status == AssignmentStatus.approved,
            ),
        )
    sat_rows = session.execute(sat_query).all()

    by_key: dict[str, list[int]] = {}
    for row in due_rows:
        g, sign_d, sign_ok, comp_d, comp_ok = tuple(row)
        if not sign_d and not comp_d:
            continue  # an aggregate without GROUP BY gives one row even when nothing matched
        by_key[str(g)] = [int(sign_ok or 0), int(sign_d or 0), int(comp_ok or 0), int(comp_d or 0), 0, 0]
    for row in sat_rows:
        g, n_rated, n_satisfied = tuple(row)
        if not n_rated:
            continue
        by_key.setdefault(str(g), [0, 0, 0, 0, 0, 0])[4:6] = [int(n_satisfied), int(n_rated)]
    if group is None:
        v = by_key.get("", [0, 0, 0, 0, 0, 0])
        return [ThreeRates("", "全市", Rate(v[0], v[1]), Rate(v[2], v[3]), Rate(v[4], v[5]))]
    return [
        ThreeRates(code, names.get(code, code), Rate(v[0], v[1]), Rate(v[2], v[3]), Rate(v[4], v[5]))
        for code, v in sorted(by_key.items())
    ]


# ---- overdue -------------------------------------------------------------------------------------


def _overdue_at(end: datetime) -> ColumnElement[bool]:
    """Due before the end of the week and not completed (reply standing, given before the end) by then.

    Written as "still open, or replied only after the end" so that PostgreSQL can use the status and
    replied_at indexes instead of reading every past assignment."""
    still_open = Assignment.status.in_((AssignmentStatus.pending, AssignmentStatus.accepted))
    replied_after_end = and_(Assignment.status.in_(DONE), Assignment.replied_at >= end)
    return and_(Assignment.due_at < end, or_(still_open, replied_after_end))


def _overdue(session: Session, end: datetime, names: dict[str, str]) -> list[OverdueAssignment]:
    rows = session.execute(
        select(Assignment.department_code, Tip.ticket, Assignment.status, Assignment.due_at)
        .join(Tip, Tip.id == Assignment.tip_id)
        .where(_overdue_at(end))
        .order_by(Assignment.department_code, Assignment.due_at, Tip.ticket)
    ).all()
    return [
        OverdueAssignment(
            code,
            names.get(code, code),
            ticket,
            labels.ASSIGNMENT_STATUS.get(status, status),
            due_at,
            round((end - due_at).total_seconds() / 86400.0, 1),
        )
        for code, ticket, status, due_at in rows
    ]


def _overdue_by_department(
    session: Session, end: datetime, names: dict[str, str]
) -> list[OverdueByDepartment]:
    rows = session.execute(
        select(Assignment.department_code, func.count(), func.min(Assignment.due_at))
        .where(_overdue_at(end))
        .group_by(Assignment.department_code)
    ).all()
    result = [
        OverdueByDepartment(
            code, names.get(code, code), int(n), round((end - oldest).total_seconds() / 86400.0, 1)
        )
        for code, n, oldest in rows
    ]
    return sorted(result, key=lambda r: (-r.count, r.department_code))


# ---- enterprises ---------------------------------------------------------------------------------


def _repeated(session: Session, start: datetime, end: datetime) -> list[RepeatedEnterprise]:
    in_week = (
        select(Tip.enterprise_id.label("eid"), func.count().label("week"))
        .where(Tip.enterprise_id.is_not(None), Tip.received_at >= start, Tip.received_at < end)
        .group_by(Tip.enterprise_id)
        .having(func.count() >= 2)
        .subquery()
    )
    # Totals only for the few enterprises repeated this week, not for every enterprise ever reported.
    totals = (
        select(Tip.enterprise_id.label("eid"), func.count().label("total"))
        .where(Tip.enterprise_id.in_(select(in_week.c.eid)), Tip.received_at < end)
        .group_by(Tip.enterprise_id)
        .subquery()
    )
    rows = session.execute(
        select(
            Enterprise.id,
            Enterprise.name,
            Enterprise.uscc,
            Enterprise.county,
            Enterprise.exit_list,
            in_week.c.week,
            totals.c.total,
        )
        .join(in_week, in_week.c.eid == Enterprise.id)
        .join(totals, totals.c.eid == Enterprise.id)
        .order_by(in_week.c.week.desc(), totals.c.total.desc(), Enterprise.uscc)
    ).all()
    return [RepeatedEnterprise(i, n, u, c, e, int(w), int(t)) for i, n, u, c, e, w, t in rows]


def _restarts(session: Session, start: datetime, end: datetime, tz: ZoneInfo) -> list[SuspectedRestart]:
    rows = session.execute(
        select(
            Tip.ticket,
            Tip.received_at,
            Enterprise.name,
            Enterprise.uscc,
            Enterprise.county,
            Enterprise.exit_list_date,
        )
        .join(Enterprise, Enterprise.id == Tip.enterprise_id)
        .where(Tip.received_at >= start, Tip.received_at < end, Enterprise.exit_list == RED)
        .order_by(Tip.received_at, Tip.ticket)
    ).all()
    # Listed only after the tip came in: then the tip was not about a restart.
    return [
        SuspectedRestart(t, r, n, u, c, listed)
        for t, r, n, u, c, listed in rows
        if listed is None or listed <= r.astimezone(tz).date()
    ]


def _list_changes(session: Session, start: datetime, end: datetime) -> list[ListChange]:
    rows = session.execute(
        select(ExitListChange, Enterprise)
        .join(Enterprise, Enterprise.id == ExitListChange.enterprise_id)
        .where(
            ExitListChange.status == ExitListChangeStatus.approved,
            ExitListChange.decided_at >= start,
            ExitListChange.decided_at < end,
        )
        .order_by(ExitListChange.decided_at, ExitListChange.id)
    ).all()
    return [
        ListChange(
            e.name, e.uscc, e.county, c.previous_list, c.target_list, c.rectify_by, c.decided_at, c.reason
        )
        for c, e in rows
        if c.decided_at is not None
    ]


def _urgent(session: Session, start: datetime, end: datetime, cat: Catalogue) -> list[UrgentTip]:
    rows = session.execute(
        select(
            Tip.ticket,
            Tip.received_at,
            Tip.category,
            Tip.subtype,
            Tip.county_code,
            Tip.status,
            func.coalesce(Enterprise.name, Tip.enterprise_name),
        )
        .outerjoin(Enterprise, Enterprise.id == Tip.enterprise_id)
        .where(Tip.urgent.is_(True), Tip.received_at >= start, Tip.received_at < end)
        .order_by(Tip.received_at, Tip.ticket)
    ).all()
    category, subtype = cat_label(cat), subtype_label(cat)
    return [
        UrgentTip(
            ticket,
            received,
            category(c or ""),
            subtype(s or ""),
            cat.counties.get(county, county) if county else UNLOCATED,
            labels.TIP_STATUS.get(status, status),
            name or "",
        )
        for ticket, received, c, s, county, status, name in rows
    ]
