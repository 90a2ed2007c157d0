"""Benchmark: one week's digest figures over 1,000,000 generated tips on PostgreSQL, against the bare SQL.

    .venv/bin/python -m bench.digest_bench [--tips 1000000] [--url postgresql+psycopg://...]

A fresh database is created (and dropped afterwards), migrated, and filled by generate_series: tips
spread over 2026, one lead assignment per dispatched tip, ratings and a register with 红牌 firms. The
digest figures (digest.figures.weekly_digest) are timed; the same SQL statements, captured while it
ran, are then replayed through the bare driver cursor. Target: figures ≤ 1.5 × bare SQL and ≤ 2 s.
"""

import argparse
import os
import statistics
import time
from typing import Any

from sqlalchemy import event, text

from digest.figures import weekly_digest
from digest.week import IsoWeek
from digest.weekly import generate
from models import migrate
from models.db import make_engine, make_sessionmaker, scratch_database, unit_of_work
from triage.departments import sync_departments
from triage.routing import catalogue

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
WEEK = IsoWeek(2026, 27)
TZ_NAME = "Asia/Shanghai"

FILL = """
INSERT INTO reporters (anonymous, created_at) VALUES (true, now());

INSERT INTO enterprises (uscc, name, county_code, county, town, address, industry, industry_code, legal_rep,
                         reg_status, exit_list, exit_list_date, updated_at)
SELECT 'B' || lpad(i::text, 17, '0'), '企业' || i, c.code, c.name, '', '', '炼钢', '', '', '存续',
       CASE WHEN i % 50 = 0 THEN '红牌' WHEN i % 20 = 0 THEN '黄牌' ELSE '' END,
       CASE WHEN i % 20 = 0 THEN date '2025-06-01' END, now()
FROM generate_series(1, 20000) AS i
JOIN (VALUES (0, '441602', '源城区'), (1, '441621', '紫金县'), (2, '441622', '龙川县'),
             (3, '441623', '连平县'), (4, '441624', '和平县'), (5, '441625', '东源县')) AS c(k, code, name)
  ON c.k = i % 6;

INSERT INTO tips (ticket, query_code_hash, channel, text, place, enterprise_name, reporter_id, status,
                  category, subtype, urgent, county_code, enterprise_id, triage_state, received_at,
                  dispatched_at, closed_at, due_at, satisfaction, version)
SELECT 'HYB' || lpad(i::text, 12, '0'), 'x', (ARRAY['web','telegram','phone','api'])[1 + i % 4], '举报', '', '',
       1,
       CASE WHEN i % 10 < 8 AND (i % 200 = 0 OR i > :tips * 0.92) THEN 'in_progress'
            WHEN i % 10 < 8 THEN 'closed' ELSE 'invalid' END,
       (ARRAY['env','energy','tech','quality','safety','other'])[1 + i % 6],
       (ARRAY['emission','energy_overuse','ditiaogang','unlicensed','hazard','other'])[1 + i % 6],
       i % 97 = 0,
       (ARRAY['441602','441621','441622','441623','441624','441625'])[1 + i % 6],
       CASE WHEN i % 3 = 0 THEN 1 + ((i::bigint * 7919) % 20000)::int END,
       'done', r.at,
       CASE WHEN i % 10 < 8 THEN r.at + ((1 + i % 48) * interval '1 hour') END,
       CASE WHEN i % 10 < 8 AND NOT (i % 200 = 0 OR i > :tips * 0.92) THEN r.at + ((24 + i % 560) * interval '1 hour') END,
       r.at + interval '21 days',
       CASE WHEN i % 10 < 8 AND NOT (i % 200 = 0 OR i > :tips * 0.92) AND i % 3 = 0
            THEN (ARRAY['满意','基本满意','不满意'])[1 + i % 7 % 3] END,
       1
FROM generate_series(1, :tips) AS i,
     LATERAL (SELECT timestamptz '2026-01-01 00:00+08' + (i::float / :tips) * interval '364 days' AS at) AS r;

INSERT INTO assignments (tip_id, department_code, round, lead, status, sign_due_at, due_at, signed_at,
                         replied_at, approved_at, created_at, version)
SELECT t.id, (ARRAY['eeb','drc','miit','amr','emb','hotline'])[1 + t.id % 6], 1, true,
       CASE WHEN t.status = 'closed' THEN 'approved' WHEN t.id % 5 = 0 THEN 'pending' ELSE 'accepted' END,
       t.dispatched_at + interval '1 day', t.due_at,
       CASE WHEN t.status = 'closed' OR t.id % 5 <> 0 THEN t.dispatched_at + ((t.id % 30) * interval '1 hour') END,
       CASE WHEN t.status = 'closed' THEN t.closed_at - interval '2 hours' END,
       t.closed_at, t.dispatched_at, 1
FROM tips t WHERE t.dispatched_at IS NOT NULL;

INSERT INTO audit_events (tip_id, actor, action, public, detail, created_at)
SELECT t.id, 'citizen', 'rated', true, '{}', t.closed_at + interval '1 day'
FROM tips t WHERE t.satisfaction IS NOT NULL;

ANALYZE;
"""


def timed(fn: Any, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tips", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--url", default=os.environ.get("HOTLINE_BENCH_POSTGRES_URL", DEFAULT_URL))
    args = parser.parse_args()

    with scratch_database(args.url, "hotline_bench") as url:
        migrate.upgrade(url)
        engine = make_engine(url)
        sessions = make_sessionmaker(engine)
        with unit_of_work(sessions) as session:
            sync_departments(session, catalogue())
        started = time.perf_counter()
        with engine.begin() as conn:
            for statement in FILL.split(";\n"):
                if statement.strip():
                    conn.execute(text(statement), {"tips": args.tips})
        print(f"generated {args.tips:,} tips in {time.perf_counter() - started:.1f} s")

        from zoneinfo import ZoneInfo

        tz = ZoneInfo(TZ_NAME)
        captured: list[tuple[str, Any]] = []

        def capture(
            conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
        ) -> None:
            captured.append((statement, parameters))

        with sessions() as session:
            event.listen(engine, "before_cursor_execute", capture)
            figures = weekly_digest(session, WEEK, tz)  # warm-up, and the statements to replay
            event.remove(engine, "before_cursor_execute", capture)
            figure_times = timed(lambda: weekly_digest(session, WEEK, tz), args.repeat)
            full_times = timed(lambda: generate(session, WEEK, tz), max(1, args.repeat // 2))

        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()

            def bare() -> None:
                for statement, parameters in captured:
                    cursor.execute(statement, parameters)
                    cursor.fetchall()

            bare_times = timed(bare, args.repeat)
            raw.rollback()
        finally:
            raw.close()
        engine.dispose()

        digest_s, bare_s = statistics.median(figure_times), statistics.median(bare_times)
        print(
            f"week {WEEK.label}: {figures.new_tips:,} new tips, {figures.dispatch_time.count:,} dispatched, "
            f"{figures.completion_time.count:,} closed, response {figures.rates.response.percent}, "
            f"completion {figures.rates.completion.percent}, satisfaction {figures.rates.satisfaction.percent}, "
            f"{len(figures.overdue):,} overdue at week end"
        )
        print(f"{len(captured)} SQL statements")
        print(
            f"digest figures  median {digest_s * 1000:8.1f} ms  (runs: {', '.join(f'{t * 1000:.0f}' for t in figure_times)})"
        )
        print(
            f"bare SQL        median {bare_s * 1000:8.1f} ms  (runs: {', '.join(f'{t * 1000:.0f}' for t in bare_times)})"
        )
        print(
            f"full digest (figures + HTML, Markdown, XLSX, PNG charts) median {statistics.median(full_times) * 1000:.1f} ms"
        )
        ratio = digest_s / bare_s
        verdict = "OK" if ratio <= 1.5 and digest_s <= 2.0 else "OVER TARGET"
        print(f"ratio {ratio:.2f}x (target <= 1.5x, <= 2 s): {verdict}")


if __name__ == "__main__":
    main()
