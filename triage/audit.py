"""Append audit events (审计记录) in the caller's transaction."""

from typing import Any

from sqlalchemy.orm import Session

from models.audit import AuditEvent
from triage.actors import Actor


def record(
    session: Session,
    actor: Actor,
    action: str,
    *,
    tip_id: int | None = None,
    assignment_id: int | None = None,
    public: bool = False,
    **detail: Any,
) -> AuditEvent:
    event = AuditEvent(
        tip_id=tip_id,
        assignment_id=assignment_id,
        actor_user_id=actor.user_id,
        actor=actor.label,
        action=action,
        public=public,
        detail=detail,
    )
    session.add(event)
    return event
