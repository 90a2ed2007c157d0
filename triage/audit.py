"""Append audit events (审计记录) in the caller's transaction."""

from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from models.audit import AuditEvent
from triage.actors import Actor

# A plain INSERT on the session's connection, built once: every state change writes at least one event and
# nothing reads one back as an ORM object, so the ORM's unit of work would only add cost. Callers pass ids
# of rows already flushed.
_INSERT_EVENT = insert(AuditEvent)


def event_row(
    actor: Actor,
    action: str,
    *,
    tip_id: int | None = None,
    assignment_id: int | None = None,
    public: bool = False,
    **detail: Any,
) -> dict[str, Any]:
    """The columns of one audit event (for `record`, and for statements that write the event themselves)."""
    return {
        "tip_id": tip_id,
        "assignment_id": assignment_id,
        "actor_user_id": actor.user_id,
        "actor": actor.label,
        "action": action,
        "public": public,
        "detail": detail,
    }


def record(
    session: Session,
    actor: Actor,
    action: str,
    *,
    tip_id: int | None = None,
    assignment_id: int | None = None,
    public: bool = False,
    **detail: Any,
) -> None:
    row = event_row(actor, action, tip_id=tip_id, assignment_id=assignment_id, public=public, **detail)
    session.connection().execute(_INSERT_EVENT, row)


def record_rows(session: Session, rows: list[dict[str, Any]]) -> None:
    """Several events (rows of `event_row`) in one executemany."""
    if rows:
        session.connection().execute(_INSERT_EVENT, rows)
