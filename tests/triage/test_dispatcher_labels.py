"""Dispatchers' labels as data: `hotline classifier labels` exports them as real labelled tips, which
`classifier eval` scores and `classifier train` learns from (the latest label of a tip wins)."""

import json
import stat
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from hotline.cli import app
from models.tips import Tip, TriageState
from tests.factories import TIP_TEXT, TZ, actor, make_tip, make_user, tech_order
from tests.triage.conftest import DATA
from triage import workorders as wo
from triage.analysis.features import text_features
from triage.analysis.normalise import normalise


def _said(output: str) -> str:
    return " ".join(output.split())  # rich wraps long lines


EMISSION_TEXT = "源城区埔前镇那家水泥厂天天晚上偷偷排放粉尘，整个村子都是灰"


@pytest.fixture
def labelled(
    db: Session,
    sessions: sessionmaker[Session],
    settings: object,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> dict[str, str]:
    """Two dispatched tips: one as the factory's 地条钢 order (the engine never saw it), one that the engine
    had called 地条钢, first sent to 工信局 as suggested, returned, and sent again as emission to 生态环境局.
    Returns ticket -> the subtype that should be its label."""
    dispatcher = actor(make_user(db, "disp", "dispatcher"))
    miit = actor(make_user(db, "miit1", "department", "miit"))
    db.commit()
    first = make_tip(sessions, settings)
    second = make_tip(sessions, settings, text=EMISSION_TEXT, place="源城区埔前镇")
    analysed = db.get(Tip, second.tip_id)
    assert analysed is not None
    analysed.triage_state = TriageState.done
    analysed.analysis = {
        "category": "tech",
        "subtype": "ditiaogang",
        "lead_department": "miit",
        "urgent": False,
        "county_code": "441622",
    }
    db.commit()
    wo.dispatch(db, dispatcher, first.tip_id, tech_order(), TZ)
    sent = wo.dispatch(db, dispatcher, second.tip_id, tech_order(), TZ)
    db.commit()
    lead = next(a.id for a in sent if a.lead)
    wo.return_(db, miit, lead, "属于环保问题", TZ)
    db.commit()
    order = tech_order(category="env", subtype="emission", lead="eeb", co_handlers=(), county_code="441602")
    wo.dispatch(db, dispatcher, second.tip_id, order, TZ)
    db.commit()
    monkeypatch.setenv("HOTLINE_DATABASE_URL", db_url)
    monkeypatch.setenv("HOTLINE_DATA_DIR", str(tmp_path / "data"))
    return {first.ticket: "ditiaogang", second.ticket: "emission"}


def test_labels_are_exported_as_real_tips_that_eval_scores(labelled: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "labels.jsonl"

    result = CliRunner().invoke(app, ["classifier", "labels", str(out)])

    assert result.exit_code == 0, result.output
    assert "2 labelled tips" in _said(result.output)
    # Only the analysed tip speaks of the engine: its suggestion was changed at the second dispatch.
    assert "the engine had suggested for 1, and 1 of those were corrected" in _said(result.output)
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert {r["id"]: r["gold"]["subtype"] for r in rows} == labelled  # the later label of the returned tip
    emission = next(r for r in rows if r["gold"]["subtype"] == "emission")
    assert emission["text"] == EMISSION_TEXT and emission["channel"] == "dispatcher"
    assert emission["gold"] | {"urgent": None} == {
        "category": "env",
        "subtype": "emission",
        "department": "eeb",
        "county": "441602",
        "enterprise_uscc": None,
        "urgent": None,
    }
    assert stat.S_IMODE(out.stat().st_mode) == 0o600  # tip texts can name people

    scored = CliRunner().invoke(app, ["classifier", "eval", str(out), "--json"])

    assert scored.exit_code == 0, scored.output
    report = json.loads(scored.stdout)
    assert report["tips"] == 2 and 0.0 <= report["department_accuracy"] <= 1.0
    assert report["targets"]["department_accuracy"]["value"] == report["department_accuracy"]
    assert {t["met"] for t in report["targets"].values()} <= {True, False}


def test_training_learns_from_the_labels_unless_told_not_to(labelled: dict[str, str], tmp_path: Path) -> None:
    with_labels, without = tmp_path / "with.npz", tmp_path / "without.npz"
    train = ["classifier", "train", str(DATA / "tips_train.jsonl"), "--output"]

    first = CliRunner().invoke(app, [*train, str(with_labels)])
    second = CliRunner().invoke(app, [*train, str(without), "--no-with-corrections"])

    assert first.exit_code == 0 and "2 dispatcher labels" in _said(first.output), first.output
    assert second.exit_code == 0 and "0 dispatcher labels" in _said(second.output), second.output
    with np.load(with_labels) as a, np.load(without) as b:
        terms_a, terms_b = set(a["terms"].tolist()), set(b["terms"].tolist())
        assert json.loads(str(a["meta"]))["tips"] == json.loads(str(b["meta"]))["tips"] + 2
    # The labelled tips' own n-grams are in the vocabulary only when their labels are learnt from.
    learnt = {g for text in (TIP_TEXT, EMISSION_TEXT) for g in text_features(normalise(text).text)}
    assert learnt & (terms_a - terms_b)


@pytest.mark.parametrize(
    "command",
    [
        ["classifier", "labels", "/proc/hotline-nowhere/labels.jsonl"],
        ["classifier", "train", str(DATA / "tips_train.jsonl"), "--output", "/proc/hotline-nowhere/m.npz"],
    ],
    ids=["labels", "train"],
)
def test_an_unwritable_output_is_one_clear_line(labelled: dict[str, str], command: list[str]) -> None:
    result = CliRunner().invoke(app, command)

    assert result.exit_code == 2, result.output
    assert "cannot write /proc/hotline-nowhere/" in _said(result.output)
