"""What `hotline classifier train` builds: heads that give scikit-learn's own answers, saved and read back."""

from pathlib import Path

import numpy as np
import pytest
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.naive_bayes import ComplementNB

from tests.triage.conftest import DATA
from triage.analysis.classify import NAIVE_BAYES_HEAD, OTHER_HEAD, SUBTYPE_HEAD, URGENT_HEAD
from triage.analysis.linear import TextModel
from triage.analysis.normalise import normalise
from triage.classifier.training import (
    NAIVE_BAYES_SMOOTHING,
    LabelledTip,
    build_model,
    featurise,
    read_labelled,
)


@pytest.fixture(scope="module")
def tips() -> list[LabelledTip]:
    return read_labelled(DATA / "tips_train.jsonl")


@pytest.fixture(scope="module")
def model(tips: list[LabelledTip]) -> TextModel:
    return build_model(tips)


def test_the_naive_bayes_head_gives_scikit_learns_probabilities(
    tips: list[LabelledTip], model: TextModel
) -> None:
    """The head is stored as plain arrays and applied by numpy; it must agree with ComplementNB itself."""
    docs = featurise(t.text for t in tips)
    labels = [f"{t.category}/{t.subtype}" for t in tips]
    counts = CountVectorizer(analyzer=lambda d: d, vocabulary=model.vocabulary)
    reference = ComplementNB(alpha=NAIVE_BAYES_SMOOTHING).fit(counts.transform(docs), labels)
    head = model.heads[NAIVE_BAYES_HEAD]
    assert head.reads == "counts" and head.classes == model.heads[SUBTYPE_HEAD].classes
    texts = ["紫金县有个小厂晚上偷偷开中频炉炼钢，烟很大", "工资拖欠三个月了", tips[0].text]

    expected = reference.predict_proba(counts.transform(featurise(texts)))
    for text, row in zip(texts, expected, strict=True):
        p = head.probabilities(model.vectorise(normalise(text).text))
        assert list(p) == list(reference.classes_)
        np.testing.assert_allclose(list(p.values()), row, atol=1e-4)


def test_a_saved_model_reads_back_with_each_heads_input(model: TextModel, tmp_path: Path) -> None:
    path = tmp_path / "model.npz"
    model.save(path)
    loaded = TextModel.load(path)

    assert {name: h.reads for name, h in loaded.heads.items()} == {
        SUBTYPE_HEAD: "tfidf",
        NAIVE_BAYES_HEAD: "counts",
        URGENT_HEAD: "tfidf",
        OTHER_HEAD: "tfidf",
    }
    vector = loaded.vectorise(normalise("铸造厂的中频炉炉壳开裂了还在用").text)
    for name, head in model.heads.items():
        assert loaded.heads[name].probabilities(vector) == pytest.approx(head.probabilities(vector))


@pytest.mark.parametrize(
    "text", ["铸造厂的中频炉炉壳开裂了还在用", "请问钢厂招工吗", "gang chang bao zha", ""]
)
def test_all_heads_decided_at_once_decide_as_each_head_alone(
    model: TextModel, tmp_path: Path, text: str
) -> None:
    """`decisions` gathers a text's rows of every head at once: from the heads of a trained model, and from
    the one block a loaded model's heads are views of."""
    path = tmp_path / "model.npz"
    model.save(path)
    for each in (model, TextModel.load(path)):
        vector = each.vectorise(normalise(text).text)
        together = each.decisions(vector)
        assert set(together) == set(each.heads)
        for name, head in each.heads.items():
            np.testing.assert_allclose(together[name], head.decision(vector), rtol=1e-5, atol=1e-6)


def test_a_model_file_from_before_the_naive_bayes_head_still_loads(model: TextModel, tmp_path: Path) -> None:
    """Models trained before round 9 have no `.reads` arrays and no naive Bayes head: logistic regression
    alone decides, as it did then."""
    path = tmp_path / "old.npz"
    old = TextModel(
        model.vocabulary,
        model.idf,
        {k: v for k, v in model.heads.items() if k not in (NAIVE_BAYES_HEAD, OTHER_HEAD)},
        model.meta,
    )
    old.save(path)
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files if not k.endswith(".reads")}
    np.savez(path, **arrays)  # type: ignore[arg-type]

    loaded = TextModel.load(path)

    assert set(loaded.heads) == {SUBTYPE_HEAD, URGENT_HEAD}
    assert all(h.reads == "tfidf" for h in loaded.heads.values())
