"""Bulk data for the load test: the enterprise register by COPY, and a year of tips generated in SQL.

The shape follows a hotline a year into the campaign: most tips closed or invalid, about 8 % still open
(waiting in the queue, dispatched, being handled, replied), one lead assignment per dispatched tip, an
anonymous reporter per tip and the audit trail every tip really has (received, triaged, dispatched,
closed or marked invalid). Tickets follow the real format, numbered per day, and the per-day counters are
set so that new submissions continue the sequence.
"""

import csv
import io
import json
import time
from pathlib import Path

import psycopg

SHARED = Path(__file__).resolve().parents[1].parent / "shared"  # ../shared beside the checkout
REGISTER = SHARED / "data" / "enterprises.csv"
TIPS_DEV = SHARED / "data" / "tips_dev.jsonl"
REGISTER_COLUMNS = (
    "uscc, name, county_code, county, town, address, industry, industry_code, legal_rep, founded, "
    "reg_capital_wan, reg_status, exit_list, exit_list_date"
)

STAGE_REGISTER = f"""
CREATE TEMP TABLE register_stage ({", ".join(f"{c.strip()} text" for c in REGISTER_COLUMNS.split(","))});
"""

LOAD_REGISTER = f"""
INSERT INTO enterprises ({REGISTER_COLUMNS}, updated_at)
SELECT uscc, name, county_code, county, coalesce(town, ''), coalesce(address, ''), coalesce(industry, ''),
       coalesce(industry_code, ''), coalesce(legal_rep, ''), nullif(founded, '')::date,
       nullif(reg_capital_wan, '')::numeric, coalesce(reg_status, '存续'), coalesce(exit_list, ''),
       nullif(exit_list_date, '')::date, now()
FROM register_stage
"""

# Statements run in order with %(tips)s, %(texts)s (sample texts) and %(enterprises)s bound.
FILL = [
    # One anonymous reporter per tip, as most tips are anonymous; identities would be Fernet tokens.
    """
    INSERT INTO reporters (anonymous, created_at)
    SELECT true, now() - interval '1 year' FROM generate_series(1, %(tips)s)
    """,
    # Tips over the 365 days before today (Asia/Shanghai), evenly per day, numbered per day from 1.
    """
    INSERT INTO tips (ticket, query_code_hash, channel, text, place, enterprise_name, reporter_id, status,
                      category, subtype, urgent, county_code, enterprise_id, triage_state, received_at,
                      dispatched_at, closed_at, due_at, status_reason, result_summary, satisfaction, version)
    SELECT 'HY' || to_char(d.day, 'YYYYMMDD') || '-' || lpad(d.seq::text, 6, '0'),
           md5(i::text) || md5((i + 1)::text),
           (ARRAY['web','telegram','phone','api'])[1 + i %% 4],
           (%(texts)s::text[])[1 + i %% cardinality(%(texts)s::text[])],
           '', '', i, s.status,
           (ARRAY['env','energy','tech','quality','safety','other'])[1 + i %% 6],
           (ARRAY['emission','energy_overuse','ditiaogang','unlicensed','hazard','other'])[1 + i %% 6],
           i %% 97 = 0,
           (ARRAY['441602','441621','441622','441623','441624','441625'])[1 + i %% 6],
           CASE WHEN i %% 3 = 0 THEN 1 + (i::bigint * 7919) %% %(enterprises)s END,
           'done', d.at,
           CASE WHEN s.status NOT IN ('received', 'invalid') THEN d.at + (1 + i %% 48) * interval '1 hour' END,
           CASE WHEN s.status IN ('closed', 'invalid') THEN d.at + (24 + i %% 560) * interval '1 hour' END,
           CASE WHEN s.status <> 'invalid' THEN d.at + interval '21 days' END,
           CASE WHEN s.status = 'invalid' THEN '内容与落后产能无关' END,
           CASE WHEN s.status = 'closed' THEN '经核查已责令整改' END,
           CASE WHEN s.status = 'closed' AND i %% 3 = 0 THEN (ARRAY['满意','基本满意','不满意'])[1 + i %% 7 %% 3] END,
           1
    FROM generate_series(1, %(tips)s) AS i,
         LATERAL (SELECT ceil(%(tips)s / 365.0)::int AS per_day) AS p,
         LATERAL (
             SELECT (date_trunc('day', now() AT TIME ZONE 'Asia/Shanghai') - interval '365 days')
                    + ((i - 1) / p.per_day) * interval '1 day' AS local_day,
                    (i - 1) %% p.per_day AS k
         ) AS l,
         LATERAL (
             SELECT l.local_day::date AS day,
                    (l.local_day + (l.k::float / p.per_day) * interval '1 day') AT TIME ZONE 'Asia/Shanghai' AS at,
                    l.k + 1 AS seq
         ) AS d,
         LATERAL (
             SELECT CASE
                 WHEN i > %(tips)s * 0.995 THEN 'received'
                 WHEN i > %(tips)s * 0.97 THEN (ARRAY['dispatched','in_progress','in_progress','replied'])[1 + i %% 4]
                 WHEN i %% 53 = 0 THEN 'in_progress'
                 WHEN i %% 10 = 9 THEN 'invalid'
                 ELSE 'closed' END AS status
         ) AS s
    """,
    """
    INSERT INTO ticket_counters (day, last)
    SELECT substr(ticket, 3, 8), max(substr(ticket, 12)::int) FROM tips GROUP BY 1
    ON CONFLICT (day) DO UPDATE SET last = greatest(ticket_counters.last, excluded.last)
    """,
    """
    INSERT INTO assignments (tip_id, department_code, round, lead, status, sign_due_at, due_at, signed_at,
                             replied_at, approved_at, reply_text, created_at, version)
    SELECT t.id, (ARRAY['eeb','drc','miit','amr','emb','nrb'])[1 + t.id %% 6], 1, true,
           CASE t.status WHEN 'closed' THEN 'approved' WHEN 'replied' THEN 'replied'
                WHEN 'dispatched' THEN 'pending' ELSE 'accepted' END,
           t.dispatched_at + interval '1 day', t.due_at,
           CASE WHEN t.status <> 'dispatched' THEN t.dispatched_at + (t.id %% 30) * interval '1 hour' END,
           CASE WHEN t.status IN ('closed', 'replied') THEN coalesce(t.closed_at, now()) - interval '2 hours' END,
           t.closed_at,
           CASE WHEN t.status IN ('closed', 'replied') THEN '已现场核查，责令停产整改' END,
           t.dispatched_at, 1
    FROM tips t WHERE t.dispatched_at IS NOT NULL
    """,
    """
    INSERT INTO audit_events (tip_id, actor, action, public, detail, created_at)
    SELECT id, 'citizen', 'received', true, json_build_object('channel', channel, 'photos', 0), received_at
    FROM tips
    """,
    """
    INSERT INTO audit_events (tip_id, actor, action, public, detail, created_at)
    SELECT id, 'system', 'triaged', false, json_build_object('category', category), received_at + interval '1 second'
    FROM tips
    """,
    """
    INSERT INTO audit_events (tip_id, actor, action, public, detail, created_at)
    SELECT id, 'user:1', 'dispatched', true, '{}'::json, dispatched_at FROM tips WHERE dispatched_at IS NOT NULL
    """,
    """
    INSERT INTO audit_events (tip_id, actor, action, public, detail, created_at)
    SELECT id, 'user:1', CASE status WHEN 'closed' THEN 'closed' ELSE 'marked_invalid' END, true, '{}'::json,
           closed_at
    FROM tips WHERE closed_at IS NOT NULL
    """,
]


def sample_texts(limit: int = 300) -> list[str]:
    """Real-looking tip texts (the shared development set) for the generated tips and the submissions."""
    texts = []
    with TIPS_DEV.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                texts.append(json.loads(line)["text"])
            if len(texts) >= limit:
                break
    return texts


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def load_register(url: str) -> int:
    """COPY the shared register into a staging table, then insert it with the proper types."""
    with psycopg.connect(_libpq(url)) as conn, conn.cursor() as cur:
        cur.execute(STAGE_REGISTER)
        with REGISTER.open(encoding="utf-8") as fh:
            reader = csv.reader(fh)
            next(reader)
            buffer = io.StringIO()
            csv.writer(buffer).writerows(reader)
        with cur.copy(f"COPY register_stage ({REGISTER_COLUMNS}) FROM STDIN WITH (FORMAT csv)") as copy:
            copy.write(buffer.getvalue())
        cur.execute(LOAD_REGISTER)
        return cur.rowcount


def fill(url: str, tips: int, texts: list[str], log: object = print) -> None:
    """Generate `tips` tips with their reporters, assignments and audit events, then VACUUM ANALYZE."""
    enterprises = load_register(url)
    params = {"tips": tips, "texts": texts, "enterprises": enterprises}
    with psycopg.connect(_libpq(url)) as conn, conn.cursor() as cur:
        for statement in FILL:
            started = time.perf_counter()
            cur.execute(statement, params)
            first_line = " ".join(statement.split()[:3])
            log(f"  {first_line:<40} {cur.rowcount:>10,} rows  {time.perf_counter() - started:6.1f} s")  # type: ignore[operator]
    with psycopg.connect(_libpq(url), autocommit=True) as conn:
        started = time.perf_counter()
        conn.execute("VACUUM ANALYZE")
        log(f"  VACUUM ANALYZE {time.perf_counter() - started:31.1f} s")  # type: ignore[operator]
