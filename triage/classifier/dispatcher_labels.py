"""Dispatchers' labels (`tip_labels`) as data: training tips, and real held-out tips to measure the engine on.

Every dispatch stores what the dispatcher decided, and whether it differs from the engine's suggestion. A
tip dispatched again (after a return) has several labels; the latest wins. Exported as JSON Lines in the
tips_dev.jsonl format, the labels can be scored with `hotline classifier eval`, used as one file of
`hotline classifier cv --by-file`, or kept out of training as a city's own held-out set.
"""

import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Tip, TipLabel
from models.tips import TriageState
from triage.classifier.training import LabelledTip

CHANNEL = "dispatcher"  # scored like any real tip by `classifier cv`, never training-only


@dataclass(frozen=True)
class DispatcherLabel:
    tip_id: int
    ticket: str
    text: str
    category: str
    subtype: str
    department: str
    county_code: str | None
    enterprise_uscc: str | None
    urgent: bool
    suggested: bool  # the engine had analysed the tip before it was dispatched
    corrected: bool  # the dispatcher changed the engine's suggestion (never, where there was none)


def latest_labels(session: Session) -> list[DispatcherLabel]:
    """The latest label of every labelled tip, oldest tip first."""
    rows = session.execute(
        select(Tip.id, Tip.ticket, Tip.text, Tip.triage_state, TipLabel)
        .join(TipLabel, TipLabel.tip_id == Tip.id)
        .order_by(TipLabel.id)
    ).all()
    latest: dict[int, DispatcherLabel] = {}
    for tip_id, ticket, text, triage_state, label in rows:
        latest[tip_id] = DispatcherLabel(
            tip_id,
            ticket,
            text,
            label.category,
            label.subtype,
            label.department,
            label.county_code,
            label.enterprise_uscc,
            bool(label.urgent),
            triage_state == TriageState.done,
            bool(label.corrected),
        )
    return sorted(latest.values(), key=lambda lab: lab.tip_id)


def as_training(labels: Sequence[DispatcherLabel]) -> list[LabelledTip]:
    return [
        LabelledTip(
            lab.text, lab.category, lab.subtype, lab.urgent, channel=CHANNEL, department=lab.department
        )
        for lab in labels
    ]


def gold_rows(labels: Sequence[DispatcherLabel]) -> Iterator[dict[str, Any]]:
    """Rows in the tips_dev.jsonl format that `classifier eval`, `train` and `cv` read."""
    for lab in labels:
        yield {
            "id": lab.ticket,
            "text": lab.text,
            "channel": CHANNEL,
            "gold": {
                "category": lab.category,
                "subtype": lab.subtype,
                "department": lab.department,
                "county": lab.county_code,
                "enterprise_uscc": lab.enterprise_uscc,
                "urgent": lab.urgent,
            },
        }


def write_jsonl(labels: Sequence[DispatcherLabel], path: Path) -> None:
    """Tip texts can name people, so the file is readable by its owner only (0600), from its creation."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an existing file keeps its mode on open
    with open(fd, "w", encoding="utf-8") as out:
        for row in gold_rows(labels):
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
