"""`hotline classifier cv`: repeatable cross-validation on real tips, generated tips only ever in training."""

import json
from collections.abc import Sequence
from pathlib import Path

from typer.testing import CliRunner

from hotline.cli import app
from tests.triage.conftest import DATA
from triage.analysis.linear import TextModel
from triage.classifier.cv import cross_validate, validate_by_file
from triage.classifier.training import LabelledTip, build_model, read_labelled


def test_an_engineer_cross_validates_the_training_tips_from_the_cli() -> None:
    result = CliRunner().invoke(
        app,
        [
            "classifier",
            "cv",
            str(DATA / "tips_train.jsonl"),
            str(DATA / "tips_written.jsonl"),
            "--folds",
            "3",
            "--json",
        ],
    )

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    train = read_labelled(DATA / "tips_train.jsonl")
    written = read_labelled(DATA / "tips_written.jsonl")
    # Only the real tips are scored; the hand-written ones are training-only.
    assert (report["tips"], report["training_only"]) == (len(train), len(written))
    assert set(report["per_subtype_f1"]) == {f"{t.category}/{t.subtype}" for t in train}
    assert report["subtype_macro_f1"] >= 0.85
    assert report["category_macro_f1"] >= report["subtype_macro_f1"] - 0.05
    assert 0.85 <= report["department_accuracy"] <= 1.0
    for gold, predicted, count in report["confused"]:
        assert gold != predicted and count >= 1


def test_written_tips_are_in_every_training_fold_and_never_scored() -> None:
    tips = read_labelled(DATA / "tips_train.jsonl") + read_labelled(DATA / "tips_written.jsonl")
    folds_seen: list[set[str]] = []

    def build(fold: Sequence[LabelledTip]) -> TextModel:
        folds_seen.append({t.channel for t in fold})
        return build_model(fold)

    report = cross_validate(tips, folds=2, build=build)

    assert len(folds_seen) == 2 and all("written" in channels for channels in folds_seen)
    assert report.tips == len([t for t in tips if t.channel != "written"])


def test_too_few_tips_of_a_subtype_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "few.jsonl"
    rows = [("有个厂冒黑烟", "env", "emission")] * 5 + [("工资拖欠三个月", "other", "other")] * 2
    path.write_text(
        "".join(
            json.dumps({"text": t, "gold": {"category": c, "subtype": s}}, ensure_ascii=False) + "\n"
            for t, c, s in rows
        ),
        encoding="utf-8",
    )

    result = CliRunner().invoke(app, ["classifier", "cv", str(path), "--folds", "3"])

    assert result.exit_code == 2


def test_leave_one_file_out_scores_each_file_with_a_model_that_never_saw_it() -> None:
    files = [
        (name, read_labelled(DATA / name))
        for name in ("tips_train.jsonl", "tips_written.jsonl", "tips_extra.jsonl")
    ]
    trained_on: list[set[str]] = []

    def build(tips: Sequence[LabelledTip]) -> TextModel:
        trained_on.append({t.text for t in tips})
        return build_model(tips)

    report = validate_by_file(files, build=build)

    texts = {name: {t.text for t in tips} for name, tips in files}
    # Composed tips only train: two models, one per other file, each without that file's tips.
    assert len(trained_on) == 2
    assert not trained_on[0] & texts["tips_train.jsonl"] and texts["tips_written.jsonl"] <= trained_on[0]
    assert not trained_on[1] & texts["tips_written.jsonl"] and texts["tips_train.jsonl"] <= trained_on[1]
    assert all(texts["tips_extra.jsonl"] <= seen for seen in trained_on)
    assert report.tips == len(texts["tips_train.jsonl"]) + len(texts["tips_written.jsonl"])
    assert report.scheme == "leave one file out"
    assert 0.6 <= report.subtype_macro_f1 <= report.category_macro_f1 + 0.05


def test_the_cli_validates_by_file() -> None:
    result = CliRunner().invoke(
        app,
        [
            "classifier",
            "cv",
            "--by-file",
            str(DATA / "tips_written.jsonl"),
            str(DATA / "tips_written_2.jsonl"),
            "--json",
        ],
    )

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["tips"] == len(read_labelled(DATA / "tips_written.jsonl")) + len(
        read_labelled(DATA / "tips_written_2.jsonl")
    )
    assert report["category_macro_f1"] >= 0.6
