"""`hotline classifier bench`: any {"text", "label"} data, the engine's learner beside the plain baseline."""

import json
from pathlib import Path

from typer.testing import CliRunner

from hotline.cli import app
from tests.triage.conftest import DATA
from triage.classifier.training import read_labelled


def _write(path: Path, rows: list[tuple[str, str]]) -> Path:
    path.write_text(
        "".join(json.dumps({"text": t, "label": lab}, ensure_ascii=False) + "\n" for t, lab in rows),
        encoding="utf-8",
    )
    return path


def test_bench_trains_on_labels_outside_the_taxonomy(tmp_path: Path) -> None:
    """A researcher benches the learner on their own labels: no taxonomy, both figures reported."""
    # Labels the taxonomy does not know: the areas by their Chinese names.
    names = {
        "env": "环保",
        "energy": "能耗",
        "tech": "技术",
        "quality": "质量",
        "safety": "安全",
        "other": "其他",
    }
    train = _write(
        tmp_path / "train.jsonl",
        [(t.text, names[t.category]) for t in read_labelled(DATA / "tips_train.jsonl")],
    )
    test = _write(
        tmp_path / "test.jsonl",
        [(t.text, names[t.category]) for t in read_labelled(DATA / "tips_heldout.jsonl")],
    )

    result = CliRunner().invoke(app, ["classifier", "bench", "--train", str(train), "--test", str(test)])

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert set(report["per_class_f1"]) == set(names.values())
    assert report["macro_f1"] >= 0.82
    assert report["macro_f1"] >= report["baseline_macro_f1"]
    assert 0.0 < report["baseline_accuracy"] <= 1.0


def test_bench_refuses_lines_without_text_and_label(tmp_path: Path) -> None:
    train = tmp_path / "train.jsonl"
    train.write_text('{"text": "有个厂冒黑烟"}\n', encoding="utf-8")

    result = CliRunner().invoke(app, ["classifier", "bench", "--train", str(train), "--test", str(train)])

    assert result.exit_code != 0
