"""Writing one submission: its reporter, the day's next ticket number, the tip, its photos and the
`received` event — all of them or nothing.

The busiest write of the system, so it is written without the ORM, and on PostgreSQL as ONE statement
(data-modifying CTEs) run in autocommit: a single statement is atomic by itself, costs one round trip
instead of six, and holds the day's counter row only while it runs. On SQLite the same rows are plain
INSERTs in one write transaction, which holds the database's single write lock anyway.
"""

from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import (
    Connection,
    Insert,
    Select,
    String,
    bindparam,
    cast,
    func,
    insert,
    literal,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from models.audit import AuditEvent
from models.db import unit_of_work
from models.tips import Attachment, Reporter, TicketCounter, Tip

TICKET_PREFIX = "HY"


@dataclass(frozen=True)
class SubmissionRows:
    """Every column is given: column defaults are not applied inside the single PostgreSQL statement."""

    day: str  # local day of the ticket number, YYYYMMDD
    reporter: dict[str, Any]  # columns of Reporter
    tip: dict[str, Any]  # columns of Tip except ticket and reporter_id
    attachments: list[dict[str, Any]]  # columns of Attachment except tip_id
    event: dict[str, Any]  # columns of AuditEvent except tip_id (triage.audit.event_row)


def ticket_number(day: str, number: int) -> str:
    return f"{TICKET_PREFIX}{day}-{number:06d}"


def _next_number(dialect_insert: Any) -> Any:
    """The day's counter row upserted (concurrent submissions never get the same number), returning it."""
    return (
        dialect_insert(TicketCounter)
        .values(day=bindparam("day"), last=1)
        .on_conflict_do_update(index_elements=["day"], set_={"last": TicketCounter.last + 1})
        .returning(TicketCounter.last)
    )


def store_submission(sessions: sessionmaker[Session], rows: SubmissionRows) -> tuple[int, str]:
    """Write the rows; returns the new tip's id and ticket number. Raises and writes nothing on failure."""
    engine = sessions.kw["bind"]
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            return _in_one_statement(conn, rows)
    with unit_of_work(sessions) as session:
        return _in_one_transaction(session.connection(), rows)


# ---- PostgreSQL: one statement -------------------------------------------------------------------


def _in_one_statement(conn: Connection, rows: SubmissionRows) -> tuple[int, str]:
    params: dict[str, Any] = {"day": rows.day, "ticket_day": rows.day}
    params.update({f"r_{k}": v for k, v in rows.reporter.items()})
    params.update({f"t_{k}": v for k, v in rows.tip.items()})
    params.update({f"e_{k}": v for k, v in rows.event.items()})
    for n, attachment in enumerate(rows.attachments):
        params.update({f"a{n}_{k}": v for k, v in attachment.items()})
    statement = _submission_statement(
        tuple(rows.reporter),
        tuple(rows.tip),
        tuple(rows.event),
        tuple(rows.attachments[0]) if rows.attachments else (),
        len(rows.attachments),
    )
    tip_id, ticket = conn.execute(statement, params).one()
    return int(tip_id), str(ticket)


def _params(prefix: str, table: Any, names: tuple[str, ...]) -> list[Any]:
    return [bindparam(f"{prefix}_{name}", type_=table.__table__.c[name].type) for name in names]


@cache
def _submission_statement(
    reporter_cols: tuple[str, ...],
    tip_cols: tuple[str, ...],
    event_cols: tuple[str, ...],
    attachment_cols: tuple[str, ...],
    photos: int,
) -> Select[Any]:
    """WITH counter (upsert), reporter, tip (its ticket from counter), event, photos: SELECT tip id, ticket.

    Built once per shape (how many photos); SQLAlchemy caches the compiled SQL.
    """
    counter = _next_number(pg_insert).cte("counter")
    reporter = (
        insert(Reporter)
        .values(dict(zip(reporter_cols, _params("r", Reporter, reporter_cols), strict=True)))
        .returning(Reporter.id)
        .cte("reporter")
    )
    ticket = func.concat(
        TICKET_PREFIX,
        bindparam("ticket_day", type_=String),
        "-",
        func.lpad(cast(counter.c.last, String), 6, "0"),
    )
    tip = (
        insert(Tip)
        .from_select(
            [*tip_cols, "ticket", "reporter_id"],
            select(*_params("t", Tip, tip_cols), ticket, reporter.c.id).select_from(
                counter.join(reporter, true())
            ),
        )
        .returning(Tip.id, Tip.ticket)
        .cte("tip")
    )
    writes = [_child_insert(AuditEvent, "e", event_cols, tip).returning(literal(1)).cte("event")]
    for n in range(photos):
        # Each photo's row waits for the one before it (it reads that row), so ids follow upload order.
        after = writes[-1] if n else None
        writes.append(
            _child_insert(Attachment, f"a{n}", attachment_cols, tip, after)
            .returning(Attachment.id)
            .cte(f"photo{n}")
        )
    return select(tip.c.id, tip.c.ticket).add_cte(*writes)


def _child_insert(table: Any, prefix: str, cols: tuple[str, ...], tip: Any, after: Any = None) -> Insert:
    """INSERT INTO table (cols…, tip_id) SELECT :values…, tip.id FROM tip [JOIN after ON true]."""
    source = tip if after is None else tip.join(after, true())
    return insert(table).from_select(
        [*cols, "tip_id"], select(*_params(prefix, table, cols), tip.c.id).select_from(source)
    )


# ---- SQLite: plain INSERTs in the caller's write transaction --------------------------------------

_NEXT_NUMBER_SQLITE = _next_number(sqlite_insert)
_INSERT_REPORTER = insert(Reporter).returning(Reporter.id)
_INSERT_TIP = insert(Tip).returning(Tip.id)
_INSERT_EVENT = insert(AuditEvent)


def _in_one_transaction(conn: Connection, rows: SubmissionRows) -> tuple[int, str]:
    ticket = ticket_number(rows.day, conn.execute(_NEXT_NUMBER_SQLITE, {"day": rows.day}).scalar_one())
    reporter_id = conn.execute(_INSERT_REPORTER, rows.reporter).scalar_one()
    tip_id = conn.execute(
        _INSERT_TIP, {**rows.tip, "ticket": ticket, "reporter_id": reporter_id}
    ).scalar_one()
    if rows.attachments:
        conn.execute(insert(Attachment), [{**a, "tip_id": tip_id} for a in rows.attachments])
    conn.execute(_INSERT_EVENT, {**rows.event, "tip_id": tip_id})
    return int(tip_id), ticket
