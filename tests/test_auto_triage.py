"""Triage after the commit: the background worker batches queued tips, sweeps orphans, never loses a tip."""

import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text, update

from intake.auto_triage import BackgroundTriage, StoredTip, inline_triage, store_results, triage_tips
from intake.service import TipSubmission, submit
from models.audit import AuditEvent
from models.base import utcnow
from models.db import unit_of_work
from models.register import Enterprise
from models.tips import Tip
from tests.factories import TZ, intake_config, make_tip
from triage import audit
from triage.actors import SYSTEM


@dataclass
class _Result:
    category: str

    def to_dict(self) -> dict[str, Any]:
        return {"category": self.category, "subtype": "emission", "urgent": False, "county_code": "441625"}


@dataclass
class RecordingAnalyser:
    """Answers `env` for every text; remembers what it was asked and which recent tips it was shown."""

    gate: threading.Event = field(default_factory=threading.Event)
    entered: threading.Event = field(default_factory=threading.Event)
    seen: dict[str, list[int]] = field(default_factory=dict)
    fail_on: str = "\x00"

    def __call__(self, text: str, hints: Any) -> _Result:
        self.entered.set()
        self.gate.wait(10)
        if self.fail_on in text:
            raise RuntimeError("cannot analyse this one")
        self.seen[text] = [int(r.id) for r in hints.recent]
        return _Result("env")


def _count(db, action: str, tip_id: int) -> int:  # type: ignore[no-untyped-def]
    return db.scalar(select(func.count()).where(AuditEvent.action == action, AuditEvent.tip_id == tip_id))


def _submit(sessions, settings, worker, text: str):  # type: ignore[no-untyped-def]
    return submit(sessions, TipSubmission(text=text, channel="web"), intake_config(settings), triage=worker)


def test_queued_tips_are_triaged_together_and_see_each_other_as_recent(sessions, settings, db):  # type: ignore[no-untyped-def]
    analyser = RecordingAnalyser()
    worker = BackgroundTriage(sessions, analyser, TZ)
    try:
        first = _submit(sessions, settings, worker, "第一条：东源县水泥厂冒黑烟")
        assert analyser.entered.wait(10)
        # The worker now waits inside the analyser on the first tip; the next ones queue behind it.
        later = [_submit(sessions, settings, worker, f"第{n}条：东源县水泥厂冒黑烟") for n in "二三四"]
        analyser.gate.set()
        assert worker.wait_idle(20)
    finally:
        worker.stop()
    receipts = [first, *later]
    for receipt in receipts:
        tip = db.get(Tip, receipt.tip_id)
        assert tip.triage_state == "done" and tip.category == "env" and tip.county_code == "441625"
        assert _count(db, "triaged", receipt.tip_id) == 1
    # The three queued tips were analysed in one batch: each was shown the others but never itself.
    for n, receipt in zip("二三四", later, strict=True):
        shown = analyser.seen[f"第{n}条：东源县水泥厂冒黑烟"]
        assert receipt.tip_id not in shown
        assert {r.tip_id for r in receipts} - {receipt.tip_id} <= set(shown)


def test_a_batch_waits_briefly_for_more_tips_so_a_trickle_shares_one_read(sessions, settings, db):  # type: ignore[no-untyped-def]
    analyser = RecordingAnalyser()
    analyser.gate.set()
    worker = BackgroundTriage(sessions, analyser, TZ, linger=2.0)
    try:
        _submit(sessions, settings, worker, "预热：东源县水泥厂冒黑烟")  # started, swept, engine loaded
        assert worker.wait_idle(20)
        receipts = [_submit(sessions, settings, worker, "第一条：东源县水泥厂冒黑烟")]
        time.sleep(0.5)  # the worker now holds the first tip
        receipts += [_submit(sessions, settings, worker, f"第{n}条：东源县水泥厂冒黑烟") for n in "二三"]
        assert worker.wait_idle(20)
    finally:
        worker.stop()
    # The first tip was not analysed on its own at once: it waited and was shown the two after it.
    assert {r.tip_id for r in receipts[1:]} <= set(analyser.seen["第一条：东源县水泥厂冒黑烟"])
    assert all(db.get(Tip, r.tip_id).triage_state == "done" for r in receipts)


def test_one_failing_tip_in_a_batch_does_not_hold_up_the_others(sessions, settings, db):  # type: ignore[no-untyped-def]
    analyser = RecordingAnalyser(fail_on="坏")
    worker = BackgroundTriage(sessions, analyser, TZ)
    try:
        blocker = _submit(sessions, settings, worker, "先到的一条：东源县冒黑烟")
        assert analyser.entered.wait(10)
        bad = _submit(sessions, settings, worker, "坏的一条：东源县冒黑烟")
        good = _submit(sessions, settings, worker, "好的一条：东源县冒黑烟")
        analyser.gate.set()
        assert worker.wait_idle(20)
    finally:
        worker.stop()
    states = {r.tip_id: db.get(Tip, r.tip_id).triage_state for r in (blocker, bad, good)}
    assert states == {blocker.tip_id: "done", bad.tip_id: "failed", good.tip_id: "done"}
    assert _count(db, "triage_failed", bad.tip_id) == 1 and _count(db, "triaged", bad.tip_id) == 0


def test_stop_finishes_the_queue_first(sessions, settings, db):  # type: ignore[no-untyped-def]
    analyser = RecordingAnalyser()
    worker = BackgroundTriage(sessions, analyser, TZ)
    receipts = [_submit(sessions, settings, worker, f"第{n}条：龙川县钢厂偷偷生产") for n in range(5)]
    analyser.gate.set()
    worker.stop()
    assert worker.backlog == 0
    assert {db.get(Tip, r.tip_id).triage_state for r in receipts} == {"done"}


def test_tips_left_pending_by_a_dead_process_are_swept_at_start(sessions, settings, db):  # type: ignore[no-untyped-def]
    orphan = make_tip(sessions, settings)  # stored, never triaged: its process died after the commit
    fresh = make_tip(sessions, settings)  # pending too, but young: another worker may still have it queued
    with unit_of_work(sessions) as session:
        session.execute(
            update(Tip).where(Tip.id == orphan.tip_id).values(received_at=utcnow() - timedelta(minutes=10))
        )
    analyser = RecordingAnalyser()
    analyser.gate.set()
    worker = BackgroundTriage(sessions, analyser, TZ, orphan_after=timedelta(minutes=2))
    worker.start()
    try:
        for _ in range(200):
            db.rollback()  # a new snapshot each time
            if db.get(Tip, orphan.tip_id).triage_state == "done":
                break
            time.sleep(0.05)
    finally:
        worker.stop()
    db.rollback()
    assert db.get(Tip, orphan.tip_id).triage_state == "done"
    assert db.get(Tip, fresh.tip_id).triage_state == "pending"


def test_a_suggestion_is_stored_once_and_never_over_a_finished_triage(sessions, settings, db):  # type: ignore[no-untyped-def]
    receipt = make_tip(sessions, settings)
    tip = db.get(Tip, receipt.tip_id)
    stored = StoredTip(tip.id, tip.text, tip.place, tip.enterprise_name, tip.channel, tip.received_at)
    for category in ("env", "tech"):  # two workers that swept the same orphan
        with unit_of_work(sessions) as session:
            store_results(session, [(stored, _Result(category).to_dict())], TZ)
    db.rollback()
    assert db.get(Tip, receipt.tip_id).category == "env"
    assert _count(db, "triaged", receipt.tip_id) == 1


def test_storing_a_batch_does_not_hold_up_events_about_its_tips(sessions, settings, db):  # type: ignore[no-untyped-def]
    """While a batch is being stored, a dispatcher's action on one of its tips may still write the audit
    event that references it (PostgreSQL row locks; SQLite has one writer anyway)."""
    if db.get_bind().dialect.name != "postgresql":
        pytest.skip("row locks are a PostgreSQL matter")
    receipt = make_tip(sessions, settings)
    tip = db.get(Tip, receipt.tip_id)
    stored = StoredTip(tip.id, tip.text, tip.place, tip.enterprise_name, tip.channel, tip.received_at)
    db.rollback()
    with unit_of_work(sessions) as batch:
        store_results(batch, [(stored, _Result("env").to_dict())], TZ)  # its locks are held until commit
        with unit_of_work(sessions) as other:
            other.execute(text("SET LOCAL lock_timeout = '2s'"))
            audit.record(other, SYSTEM, "reporter_viewed", tip_id=tip.id)  # would wait for the batch
    assert _count(db, "reporter_viewed", tip.id) == 1


def test_inline_triage_runs_before_submit_returns(sessions, settings, db):  # type: ignore[no-untyped-def]
    analyser = RecordingAnalyser()
    analyser.gate.set()
    receipt = _submit(sessions, settings, inline_triage(sessions, analyser, TZ), "源城区有工厂排污水")
    assert db.get(Tip, receipt.tip_id).triage_state == "done"


@dataclass
class _Matched:
    uscc: str | None
    urgent: bool

    def to_dict(self) -> dict[str, Any]:
        enterprise = {"uscc": self.uscc, "name": "东源县宏达钢铁有限公司"} if self.uscc else None
        return {"category": "tech", "subtype": "ditiaogang", "urgent": self.urgent, "county_code": "441625",
                "town": "仙塘镇", "enterprise": enterprise, "model": "test"}  # fmt: skip


def test_the_suggestion_names_the_register_entry_and_an_urgent_one_is_due_sooner(sessions, settings, db):  # type: ignore[no-untyped-def]
    with unit_of_work(sessions) as session:
        firm = Enterprise(
            uscc="91441625MA4W000001", name="东源县宏达钢铁有限公司", county_code="441625", county="东源县"
        )
        session.add(firm)
        session.flush()
        firm_id = firm.id
    named = _submit(
        sessions,
        settings,
        inline_triage(sessions, lambda t, h: _Matched(firm.uscc, False), TZ),
        "宏达钢厂偷偷炼钢",
    )
    unknown = _submit(
        sessions,
        settings,
        inline_triage(sessions, lambda t, h: _Matched("91441625MA4W999999", True), TZ),
        "仙塘镇某钢厂炉子炸了，有人受伤",
    )
    named_tip, unknown_tip = db.get(Tip, named.tip_id), db.get(Tip, unknown.tip_id)
    assert (
        named_tip.enterprise_id == firm_id
        and named_tip.town == "仙塘镇"
        and named_tip.subtype == "ditiaogang"
    )
    assert named_tip.analysis["model"] == "test" and named_tip.version == 2
    assert unknown_tip.enterprise_id is None and unknown_tip.urgent
    assert (named_tip.due_at - named_tip.received_at).days >= 14
    assert (unknown_tip.due_at - unknown_tip.received_at) == timedelta(hours=24)


def test_orphans_are_swept_while_new_tips_keep_the_worker_busy(sessions, settings, db):  # type: ignore[no-untyped-def]
    analyser = RecordingAnalyser()
    analyser.gate.set()
    worker = BackgroundTriage(sessions, analyser, TZ, orphan_after=timedelta(seconds=0.3))
    try:
        worker.start()
        time.sleep(0.1)  # the start-up sweep has run and found nothing
        orphan = make_tip(sessions, settings)
        with unit_of_work(sessions) as session:
            session.execute(
                update(Tip)
                .where(Tip.id == orphan.tip_id)
                .values(received_at=utcnow() - timedelta(minutes=10))
            )
        for n in range(30):  # a new tip every 50 ms: the worker's queue never stays empty for long
            _submit(sessions, settings, worker, f"第{n}条：龙川县钢厂冒黑烟")
            time.sleep(0.05)
        assert worker.wait_idle(20)
    finally:
        worker.stop()
    db.rollback()
    assert db.get(Tip, orphan.tip_id).triage_state == "done"


def test_a_result_that_cannot_be_stored_holds_up_no_other_and_nothing_is_analysed_twice(
    sessions, settings, db
):  # type: ignore[no-untyped-def]
    receipts = [make_tip(sessions, settings, text=f"第{n}条：东源县水泥厂冒黑烟") for n in range(3)]
    tips = [
        StoredTip(t.id, t.text, t.place, t.enterprise_name, t.channel, t.received_at)
        for t in (db.get(Tip, r.tip_id) for r in receipts)
    ]
    calls: list[str] = []

    class _Unstorable:
        def to_dict(self) -> dict[str, Any]:
            return {"category": "env", "subtype": "emission", "urgent": False, "evidence": {object()}}

    def analyser(text: str, hints: Any) -> Any:
        calls.append(text)
        return _Unstorable() if text.startswith("第1条") else _Result("env")

    triage_tips(sessions, tips, analyser, TZ)
    db.rollback()
    states = [db.get(Tip, r.tip_id).triage_state for r in receipts]
    assert states == ["done", "pending", "done"]  # the unstorable one waits for the sweep
    assert sorted(calls) == sorted(t.text for t in tips)  # each tip analysed exactly once
