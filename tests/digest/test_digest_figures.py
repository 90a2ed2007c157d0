"""The bureau reads the digest of a seeded week and every figure is the one worked out by hand."""

from datetime import date

import pytest
from sqlalchemy.orm import Session

from digest.figures import (
    CountRow,
    DurationStats,
    Rate,
    SuggestionQuality,
    WeeklyDigest,
    weekly_digest,
)
from digest.render import render_markdown
from digest.week import IsoWeek
from tests.digest.seed import WEEK, seed_suggestions, seed_week
from tests.factories import TZ


@pytest.fixture
def digest(db: Session) -> WeeklyDigest:
    seed_week(db)
    db.commit()
    return weekly_digest(db, IsoWeek.parse(WEEK), TZ)


def test_new_tips_are_counted_by_category_subtype_county_and_channel_with_the_change(
    digest: WeeklyDigest,
) -> None:
    assert (digest.week_start, digest.week_end) == (date(2026, 11, 23), date(2026, 11, 29))
    assert (digest.new_tips, digest.new_tips_previous, digest.new_tips_change) == (5, 2, 3)
    assert digest.by_category == [
        CountRow("tech", "技术", 2, 1),
        CountRow("env", "环保", 1, 1),
        CountRow("energy", "能耗", 1, 0),
        CountRow("quality", "质量", 1, 0),
    ]
    assert digest.by_subtype == [
        CountRow("ditiaogang", "地条钢/中频炉", 2, 1),
        CountRow("emission", "超标排放", 1, 1),
        CountRow("energy_overuse", "能耗超限额", 1, 0),
        CountRow("unlicensed", "无证生产", 1, 0),
    ]
    assert digest.by_county == [
        CountRow("441622", "龙川县", 3, 1),
        CountRow("441602", "源城区", 1, 1),
        CountRow("441621", "紫金县", 1, 0),
    ]
    assert digest.by_channel == [
        CountRow("web", "网页", 3, 1),
        CountRow("telegram", "Telegram", 1, 1),
        CountRow("phone", "电话", 1, 0),
    ]


def test_dispatch_and_completion_times_are_median_and_p90_in_hours(digest: WeeklyDigest) -> None:
    assert digest.dispatch_time == DurationStats(3, 2.0, 4.0)
    assert digest.completion_time == DurationStats(3, 72.0, 432.0)


def test_three_rates_overall_and_per_department(digest: WeeklyDigest) -> None:
    overall = digest.rates
    assert (overall.response, overall.completion, overall.satisfaction) == (
        Rate(2, 4),
        Rate(2, 5),
        Rate(2, 3),
    )
    assert [r.percent for r in (overall.response, overall.completion, overall.satisfaction)] == [
        "50.0%",
        "40.0%",
        "66.7%",
    ]
    by_department = {
        r.department_code: (r.response, r.completion, r.satisfaction) for r in digest.rates_by_department
    }
    assert by_department == {
        "eeb": (Rate(1, 1), Rate(1, 2), Rate(1, 2)),
        "gov-441622": (Rate(0, 1), Rate(0, 1), Rate(0, 0)),
        "gov-441625": (Rate(0, 0), Rate(0, 1), Rate(0, 0)),
        "miit": (Rate(1, 2), Rate(1, 1), Rate(1, 1)),
    }
    assert [r.department_code for r in digest.rates_by_department] == [
        "eeb",
        "gov-441622",
        "gov-441625",
        "miit",
    ]
    assert digest.rates_by_department[0].department_name == "河源市生态环境局"


def test_overdue_assignments_by_department_with_days_overdue(digest: WeeklyDigest) -> None:
    assert [(o.department_code, o.ticket, o.status, o.days_overdue) for o in digest.overdue] == [
        ("amr", "HY20261102-000001", "已签收", 9.0),
        ("gov-441625", "HY20261102-000001", "已签收", 4.0),
    ]
    assert [(o.department_code, o.count, o.max_days_overdue) for o in digest.overdue_by_department] == [
        ("amr", 1, 9.0),
        ("gov-441625", 1, 4.0),
    ]


def test_repeated_enterprises_suspected_restarts_list_changes_and_urgent_tips(digest: WeeklyDigest) -> None:
    assert [(e.name, e.tips_in_week, e.tips_total, e.exit_list) for e in digest.repeated_enterprises] == [
        ("龙川县恒达钢铁有限公司", 2, 3, "红牌"),
        ("紫金县宏发水泥有限公司", 2, 2, ""),
    ]
    assert [(s.ticket, s.enterprise_name) for s in digest.suspected_restarts] == [
        ("HY20261123-000001", "龙川县恒达钢铁有限公司"),
        ("HY20261124-000001", "龙川县恒达钢铁有限公司"),
    ]
    assert [
        (c.enterprise_name, c.previous_list, c.target_list, c.rectify_by) for c in digest.list_changes
    ] == [("紫金县宏发水泥有限公司", "", "黄牌", date(2027, 5, 31))]
    assert [(u.ticket, u.category, u.subtype, u.county, u.status) for u in digest.urgent_tips] == [
        ("HY20261123-000001", "技术", "地条钢/中频炉", "龙川县", "已办结")
    ]
    assert digest.headline()["new_tips"] == 5


def test_a_week_without_tips_has_zero_counts_and_no_rates(db: Session) -> None:
    empty = weekly_digest(db, IsoWeek.parse("2026-W10"), TZ)
    assert empty.new_tips == 0 and empty.by_category == []
    assert empty.dispatch_time == DurationStats(0, None, None)
    assert empty.rates.response.percent == "—"
    assert empty.rates_by_department == []


def test_the_engines_suggestions_are_scored_against_the_weeks_dispatches(db: Session) -> None:
    """Three dispatches in the week of tips the engine analysed: one kept as suggested, one with the
    county changed, one with the category (and so the lead department) changed. A dispatch of a tip the
    engine never analysed and one of the week before count in nothing."""
    seed_suggestions(db, seed_week(db))
    db.commit()

    digest = weekly_digest(db, IsoWeek.parse(WEEK), TZ)

    assert digest.suggestions == SuggestionQuality(
        category=Rate(2, 3),
        lead_department=Rate(2, 3),
        unchanged=Rate(1, 3),
        marked_category=Rate(0, 1),  # T3, which the queue marked 请核对, had its category corrected
        unmarked_category=Rate(2, 2),
    )
    assert digest.headline()["suggestion_category_kept"] == "66.7%"
    assert "- 其中标记“请核对”的 1 件类别采纳 0.0%，其余 2 件 100.0%" in render_markdown(digest)
