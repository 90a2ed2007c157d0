"""A hypothesis state machine over the work-order transitions: whatever staff and citizens do, in any
order, no tip reaches an invalid state and no successful action goes unaudited; refused actions change
nothing."""

import shutil
import tempfile
from pathlib import Path

import hypothesis.strategies as st
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from sqlalchemy import func, select

from hotline.settings import Settings
from models.audit import AuditEvent
from models.db import make_engine, make_sessionmaker, unit_of_work
from models.tips import Tip, TipStatus
from models.workorders import Assignment, AssignmentStatus
from tests.factories import TZ, actor, make_tip, make_user, tech_order
from triage import workorders as wo
from triage.actors import CITIZEN
from triage.departments import sync_departments
from triage.errors import HotlineError
from triage.routing import catalogue

DEPARTMENTS = ["miit", "gov-441622", "eeb"]


class WorkOrderMachine(RuleBasedStateMachine):
    template_path: Path

    @initialize()
    def setup(self) -> None:
        self.dir = Path(tempfile.mkdtemp())
        shutil.copy(self.template_path, self.dir / "hotline.db")
        url = f"sqlite:///{self.dir / 'hotline.db'}"
        self.engine = make_engine(url)
        self.sessions = make_sessionmaker(self.engine)
        self.settings = Settings(data_dir=self.dir, database_url=url, secret_key="k", contact_keys="")
        with unit_of_work(self.sessions) as s:
            sync_departments(s, catalogue())
            self.dispatcher = actor(make_user(s, "disp", "dispatcher"))
            self.depts = {code: actor(make_user(s, f"u-{code}", "department", code)) for code in DEPARTMENTS}
        self.tip_id = make_tip(self.sessions, self.settings).tip_id
        self.other_ticket = make_tip(self.sessions, self.settings).ticket
        self.audit_count = self._audit_count()
        self.steps = 0

    def teardown(self) -> None:
        if hasattr(self, "engine"):
            self.engine.dispose()
            shutil.rmtree(self.dir, ignore_errors=True)

    def _audit_count(self) -> int:
        with self.sessions() as s:
            return s.scalar(select(func.count()).select_from(AuditEvent)) or 0

    def _assignment_ids(self) -> list[int]:
        with self.sessions() as s:
            return list(s.scalars(select(Assignment.id).where(Assignment.tip_id == self.tip_id)))

    def _act(self, work) -> None:  # type: ignore[no-untyped-def]
        self.steps += 1
        before = self._audit_count()
        try:
            with unit_of_work(self.sessions) as s:
                work(s)
        except HotlineError:
            assert self._audit_count() == before, "a refused action left audit events behind"
            return
        assert self._audit_count() > before, "a successful action wrote no audit event"

    @rule(co=st.lists(st.sampled_from(["gov-441622", "eeb"]), unique=True), urgent=st.booleans())
    @precondition(lambda self: self._status() == TipStatus.received)
    def dispatch(self, co: list[str], urgent: bool) -> None:
        self._act(
            lambda s: wo.dispatch(
                s, self.dispatcher, self.tip_id, tech_order(co_handlers=tuple(co), urgent=urgent), TZ
            )
        )

    def _in_state(self, *states: str) -> list[tuple[int, str]]:
        with self.sessions() as s:
            rows = s.execute(
                select(Assignment.id, Assignment.department_code).where(
                    Assignment.tip_id == self.tip_id, Assignment.status.in_(states)
                )
            ).all()
        return [(r.id, r.department_code) for r in rows]

    # Rules that move the order forward, acting as the assignment's own department ...

    @rule(data=st.data())
    def sign(self, data: st.DataObject) -> None:
        rows = self._in_state(AssignmentStatus.pending)
        if rows:
            aid, own = data.draw(st.sampled_from(rows))
            self._act(lambda s: wo.sign(s, self.depts[own], aid))

    @rule(data=st.data())
    def reply(self, data: st.DataObject) -> None:
        rows = self._in_state(AssignmentStatus.accepted)
        if rows:
            aid, own = data.draw(st.sampled_from(rows))
            self._act(lambda s: wo.reply(s, self.depts[own], aid, "已核查处理"))

    @rule(data=st.data(), approve=st.booleans())
    def review(self, data: st.DataObject, approve: bool) -> None:
        rows = self._in_state(AssignmentStatus.replied)
        if rows:
            aid, _ = data.draw(st.sampled_from(rows))
            if approve:
                self._act(lambda s: wo.approve(s, self.dispatcher, aid))
            else:
                self._act(lambda s: wo.reject_reply(s, self.dispatcher, aid, "请补充"))

    # ... and a rule of chaos: any action on any assignment by anyone; it must succeed or be refused cleanly.

    @rule(
        data=st.data(),
        action=st.sampled_from(
            ["sign", "reply", "return", "extension", "grant", "refuse", "approve", "reject"]
        ),
        who=st.sampled_from(DEPARTMENTS),
    )
    def anything(self, data: st.DataObject, action: str, who: str) -> None:
        ids = self._assignment_ids()
        if not ids:
            return
        aid = data.draw(st.sampled_from(ids))
        dept = self.depts[who]
        work = {
            "sign": lambda s: wo.sign(s, dept, aid),
            "reply": lambda s: wo.reply(s, dept, aid, "已处理"),
            "return": lambda s: wo.return_(s, dept, aid, "非本单位职责", TZ),
            "extension": lambda s: wo.request_extension(s, dept, aid, 5, "需要检测"),
            "grant": lambda s: wo.decide_extension(s, self.dispatcher, aid, True, TZ),
            "refuse": lambda s: wo.decide_extension(s, self.dispatcher, aid, False, TZ, "理由不足"),
            "approve": lambda s: wo.approve(s, self.dispatcher, aid),
            "reject": lambda s: wo.reject_reply(s, self.dispatcher, aid, "请补充"),
        }[action]
        self._act(work)

    def _status(self) -> str:
        with self.sessions() as s:
            return s.scalar(select(Tip.status).where(Tip.id == self.tip_id)) or ""

    @rule(action=st.sampled_from(["reopen", "rate"]))
    def after_closing(self, action: str) -> None:
        if action == "reopen":
            self._act(lambda s: wo.reopen(s, self.dispatcher, self.tip_id, "市民不满意", TZ))
        else:
            self._act(lambda s: wo.record_satisfaction(s, CITIZEN, self.tip_id, "不满意"))

    @rule(action=st.sampled_from(["invalid", "merge", "transfer"]))
    @precondition(lambda self: self.steps >= 12)  # they end a tip for good: first explore the long paths
    def end_without_dispatch(self, action: str) -> None:
        if action == "invalid":
            self._act(lambda s: wo.mark_invalid(s, self.dispatcher, self.tip_id, "无效"))
        elif action == "merge":
            self._act(lambda s: wo.merge(s, self.dispatcher, self.tip_id, self.other_ticket))
        else:
            self._act(lambda s: wo.transfer(s, self.dispatcher, self.tip_id, "119"))

    @invariant()
    def tip_state_agrees_with_its_assignments(self) -> None:
        if not hasattr(self, "sessions"):
            return
        with self.sessions() as s:
            tip = s.get(Tip, self.tip_id)
            assert tip is not None and tip.status in set(TipStatus)
            current = wo.current_assignments(s, self.tip_id)
            states = {a.status for a in current}
            open_work = states & {
                AssignmentStatus.pending,
                AssignmentStatus.accepted,
                AssignmentStatus.replied,
            }
            if tip.status == TipStatus.closed:
                assert states == {AssignmentStatus.approved}
            if tip.status == TipStatus.replied:
                assert states <= {AssignmentStatus.replied, AssignmentStatus.approved} and states
            if tip.status in (TipStatus.dispatched, TipStatus.in_progress):
                assert open_work, "a tip in progress with nobody working on it"
            if tip.status in (TipStatus.received, TipStatus.invalid, TipStatus.merged, TipStatus.transferred):
                assert not open_work, f"a {tip.status} tip still has open assignments"
            for a in current:
                assert tip.urgent or (a.sign_due_at is not None and a.due_at >= a.sign_due_at)
            assert s.execute(select(func.count()).select_from(AuditEvent)).scalar_one() >= self.audit_count


def test_no_sequence_of_actions_breaks_a_work_order(sqlite_template: Path) -> None:
    WorkOrderMachine.template_path = sqlite_template
    WorkOrderMachine.TestCase.settings = settings(
        max_examples=20,
        stateful_step_count=50,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        database=None,
    )
    WorkOrderMachine.TestCase().runTest()
