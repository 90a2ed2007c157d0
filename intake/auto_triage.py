"""Running the triage engine on committed tips: inline, or in a background thread that works in batches.

A tip is committed before it is analysed (DESIGN.md), so triage can never lose one. The web app hands
each new tip to a `BackgroundTriage`: the citizen gets the receipt without waiting for the analysis, and
under load the worker takes the tips waiting in its queue together (one read of the recent tips, one
transaction), which costs far less per tip. A tip whose process dies before it was analysed stays
`pending`; every worker sweeps such orphans at start and then every `orphan_after` (2 minutes).
"""

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, case, select, update
from sqlalchemy.orm import Session, sessionmaker

from models.base import utcnow
from models.db import unit_of_work
from models.register import Enterprise
from models.tips import Tip, TipStatus, TriageState
from triage import audit
from triage.actors import SYSTEM
from triage.deadlines import provisional_due

if TYPE_CHECKING:
    from triage.analysis import RecentTip

log = logging.getLogger(__name__)

Analyser = Callable[[str, Any], Any]
RECENT_DAYS = 90
RECENT_LIMIT = 300  # duplicates are looked for among this many of the newest tips
BATCH_LIMIT = 32
# A batch waits this long for more tips after its first: one read of the recent tips and one transaction
# then serve many tips under load, and a suggestion appears a quarter of a second later, which nobody sees.
BATCH_LINGER = 0.25  # seconds


@dataclass(frozen=True)
class StoredTip:
    """What triage needs of a committed tip (the submission already has it: no second read)."""

    id: int
    text: str
    place: str
    enterprise_name: str
    channel: str
    received_at: datetime


# What `intake.service.submit()` hands a committed tip to.
TipTriage = Callable[[StoredTip], None]


def triage_tips(
    sessions: sessionmaker[Session], tips: Sequence[StoredTip], analyser: Analyser, tz: ZoneInfo
) -> None:
    """Analyse committed tips and store the suggestions in one transaction. Never raises.

    The analysis runs outside any transaction (on SQLite a write transaction would hold the database's
    one write lock meanwhile). A tip the engine cannot analyse is marked for manual triage (待人工分拣);
    a tip whose result cannot be stored stays `pending` for the sweep.
    """
    try:
        results = _analyse(sessions, tips, analyser)
    except Exception:  # the recent tips could not be read: the database is down
        log.exception("could not read the recent tips; %d tips stay pending", len(tips))
        return
    try:
        _store_results(sessions, results, tz)
    except Exception:
        if len(results) == 1:
            log.exception("could not store the triage of tip %s; it stays pending", results[0][0].id)
            return
        for one in results:  # one bad result must not hold up the others: store each alone
            try:
                _store_results(sessions, [one], tz)
            except Exception:
                log.exception("could not store the triage of tip %s; it stays pending", one[0].id)


Result = tuple[StoredTip, dict[str, Any] | None]  # None: the engine could not analyse the tip


def _analyse(sessions: sessionmaker[Session], tips: Sequence[StoredTip], analyser: Analyser) -> list[Result]:
    from triage.analysis import Hints  # the analysis engine is heavy; load it on first use

    with sessions() as session:
        recent = recent_tips(session, min(t.received_at for t in tips), len(tips))
    results: list[Result] = []
    for tip in tips:
        others = [r for r in recent if r.id != tip.id][:RECENT_LIMIT]
        hints = Hints(
            place=tip.place, enterprise_name=tip.enterprise_name, channel=tip.channel, recent=others
        )
        try:
            results.append((tip, analyser(tip.text, hints).to_dict()))
        except Exception:
            log.exception("triage failed for tip %s; it waits for manual triage", tip.id)
            results.append((tip, None))
    return results


def _store_results(sessions: sessionmaker[Session], results: Sequence[Result], tz: ZoneInfo) -> None:
    with unit_of_work(sessions) as session:
        store_results(session, results, tz)


def recent_tips(session: Session, since: datetime, extra: int = 0) -> list["RecentTip"]:
    """The newest tips of the RECENT_DAYS before `since` and after (not marked invalid): duplicate candidates."""
    from triage.analysis import RecentTip

    rows = session.execute(
        select(Tip.id, Tip.text, Enterprise.uscc)
        .outerjoin(Enterprise, Enterprise.id == Tip.enterprise_id)
        .where(Tip.received_at >= since - timedelta(days=RECENT_DAYS), Tip.status != TipStatus.invalid)
        .order_by(Tip.received_at.desc())
        .limit(RECENT_LIMIT + extra)
    )
    return [RecentTip(id=tid, text=text, enterprise_uscc=uscc) for tid, text, uscc in rows]


# Built once (the busiest UPDATE), run only on tips `store_results` found still pending and locked: an
# urgent suggestion also shortens the provisional due date of a tip still in the queue; the enterprise is
# found by its USCC (none: NULL, as before triage).
_STORE_SUGGESTION = (
    update(Tip)
    .where(Tip.id == bindparam("tip_id"))
    .values(
        analysis=bindparam("analysis", type_=Tip.analysis.type),
        triage_state=TriageState.done,
        category=bindparam("category"),
        subtype=bindparam("subtype"),
        urgent=bindparam("urgent"),
        county_code=bindparam("county_code"),
        town=bindparam("town"),
        enterprise_id=select(Enterprise.id).where(Enterprise.uscc == bindparam("uscc")).scalar_subquery(),
        due_at=case(
            (Tip.status == TipStatus.received, bindparam("provisional_due", type_=Tip.due_at.type)),
            else_=Tip.due_at,
        ),
        version=Tip.version + 1,
    )
)


def store_results(session: Session, results: Sequence[Result], tz: ZoneInfo) -> None:
    """Copy a batch's suggestions onto its tips (still only suggestions until a dispatcher dispatches);
    a tip the engine could not analyse is left to the dispatcher (待人工分拣, `failed`).

    Only tips still waiting for triage are written, so a dispatcher's decision (or a second worker that
    swept the same orphan) is never overwritten: they are locked first, in id order (two workers never
    deadlock; on SQLite the unit of work's write lock does the same). Then one UPDATE per kind and one INSERT of the audit events for the whole batch, each sent
    as a single executemany.
    """
    ids = sorted(tip.id for tip, _ in results)
    pending = set(
        session.scalars(
            select(Tip.id)
            .where(Tip.id.in_(ids), Tip.triage_state == TriageState.pending)
            .order_by(Tip.id)
            # FOR NO KEY UPDATE: the lock the UPDATE takes anyway; rows that reference these tips (audit
            # events, assignments) can still be inserted meanwhile.
            .with_for_update(key_share=True)
        )
    )
    todo = [(tip, result) for tip, result in results if tip.id in pending]
    conn = session.connection()
    suggestions = [(tip, result) for tip, result in todo if result is not None]
    failed = [tip.id for tip, result in todo if result is None]
    if suggestions:
        conn.execute(_STORE_SUGGESTION, [_suggestion(tip, result, tz) for tip, result in suggestions])
    if failed:
        conn.execute(
            update(Tip)
            .where(Tip.id.in_(failed))
            .values(triage_state=TriageState.failed, version=Tip.version + 1)
        )
    events = [
        audit.event_row(
            SYSTEM, "triaged", tip_id=tip.id, category=result.get("category"), model=result.get("model")
        )
        for tip, result in suggestions
    ] + [audit.event_row(SYSTEM, "triage_failed", tip_id=tip_id) for tip_id in failed]
    audit.record_rows(session, events)


def _suggestion(tip: StoredTip, result: dict[str, Any], tz: ZoneInfo) -> dict[str, Any]:
    urgent = bool(result.get("urgent"))
    return {
        "tip_id": tip.id,
        "analysis": result,
        "category": result.get("category"),
        "subtype": result.get("subtype"),
        "urgent": urgent,
        "county_code": result.get("county_code"),
        "town": result.get("town"),
        "uscc": (result.get("enterprise") or {}).get("uscc"),
        "provisional_due": provisional_due(tip.received_at, tz, urgent),
    }


def pending_tips(session: Session, received_before: datetime, limit: int = 500) -> list[StoredTip]:
    """Tips still waiting for triage that nobody is working on any more (their process died)."""
    rows = session.execute(
        select(Tip.id, Tip.text, Tip.place, Tip.enterprise_name, Tip.channel, Tip.received_at)
        .where(Tip.triage_state == TriageState.pending, Tip.received_at < received_before)
        .order_by(Tip.received_at)
        .limit(limit)
    )
    return [StoredTip(*row) for row in rows]


def inline_triage(sessions: sessionmaker[Session], analyser: Analyser, tz: ZoneInfo) -> TipTriage:
    """Triage each tip right after its commit, before `submit()` returns (CLI, demo, bot, tests)."""

    def run(tip: StoredTip) -> None:
        triage_tips(sessions, [tip], analyser, tz)

    return run


class BackgroundTriage:
    """A daemon thread per process that triages queued tips in batches and sweeps orphaned ones.

    Started on the first tip (or by `start()`); `stop()` finishes what is queued. Anything still queued
    when the process is killed is `pending` in the database and swept later by any worker.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        analyser: Analyser,
        tz: ZoneInfo,
        *,
        orphan_after: timedelta = timedelta(minutes=2),
        linger: float = BATCH_LINGER,
    ) -> None:
        self.sessions, self.analyser, self.tz = sessions, analyser, tz
        self.linger = linger
        # Sweeping as often as a tip becomes an orphan: one is analysed at most about twice that late.
        self.orphan_after = orphan_after
        self.sweep_every = orphan_after.total_seconds()
        self._queue: queue.Queue[StoredTip | None] = queue.Queue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def __call__(self, tip: StoredTip) -> None:
        self.start()
        self._queue.put(tip)

    @property
    def backlog(self) -> int:
        """Tips handed over and not yet stored (queued or being analysed)."""
        return self._queue.unfinished_tasks

    def start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="triage", daemon=True)
                self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout)

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """True once every tip handed over has been dealt with (stored, or left pending for the sweep)."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def _run(self) -> None:
        next_sweep = 0.0  # at once: tips left by a process that stopped before this one started
        while True:
            if time.monotonic() >= next_sweep:  # also under steady load, when the queue is never empty
                self._sweep()
                next_sweep = time.monotonic() + self.sweep_every
            try:
                first = self._queue.get(timeout=max(0.0, next_sweep - time.monotonic()))
            except queue.Empty:
                continue
            batch: list[StoredTip] = []
            item: StoredTip | None = first
            linger_until = time.monotonic() + self.linger
            while item is not None:
                batch.append(item)
                if len(batch) >= BATCH_LIMIT:
                    break
                try:
                    item = self._queue.get(timeout=max(0.0, linger_until - time.monotonic()))
                except queue.Empty:
                    break
            self._work(batch)
            if item is None:  # stop() asked, after the tips queued before it
                self._queue.task_done()
                return

    def _work(self, batch: list[StoredTip]) -> None:
        try:
            if batch:
                triage_tips(self.sessions, batch, self.analyser, self.tz)
        finally:
            for _ in batch:
                self._queue.task_done()

    def _sweep(self) -> None:
        try:
            with self.sessions() as session:
                orphans = pending_tips(session, utcnow() - self.orphan_after)
            for start in range(0, len(orphans), BATCH_LIMIT):
                triage_tips(self.sessions, orphans[start : start + BATCH_LIMIT], self.analyser, self.tz)
            if orphans:
                log.info("triaged %d tips left pending by a stopped process", len(orphans))
        except Exception:
            log.exception("sweeping pending tips failed; trying again later")
